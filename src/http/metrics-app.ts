import { Hono } from 'hono';
import type { PrometheusMetrics } from '../metrics/index.js';

/**
 * The Prometheus listener's app (wire §7.7): `GET /metrics` in the text exposition format, no
 * authentication (bind it to a private interface), and an empty 404 for anything else.
 */
export function createMetricsApp(metrics: PrometheusMetrics): Hono {
  const app = new Hono();
  app.get('/metrics', async () => new Response(await metrics.text(), { headers: { 'content-type': metrics.contentType } }));
  app.notFound(() => new Response(null, { status: 404 }));
  return app;
}
