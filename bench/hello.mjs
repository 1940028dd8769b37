// The baseline: a bare Hono hello-world on @hono/node-server, nothing else.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello Hono!'));
const port = Number(process.argv[2]);
serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => process.stdout.write('READY\n'));
