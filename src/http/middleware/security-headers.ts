import type { Context, MiddlewareHandler } from 'hono';
import { PAGE_CSP } from '../pages/login.js';

export interface SecurityHeaderOptions {
  enabled: boolean;
  hstsMaxAge: number;
  hstsIncludeSubdomains: boolean;
  frameOptions: string;
  contentTypeOptions: string;
  referrerPolicy: string;
  /** The configured CSP string, or undefined when `csp.enabled` is false. */
  csp: string | undefined;
}

// `/auth/assets/` alone is no route (wire §1.2), so it gets the configured policy like any 404.
const LOGIN_UI = /^\/auth\/(?:login$|favicon\.ico$|assets\/.)/;

/** Sets the headers of wire §2.5 on every response, replacing any handler value. */
export function securityHeaders(opts: SecurityHeaderOptions): MiddlewareHandler {
  const fixed: Array<[string, string]> = [
    ['strict-transport-security', `max-age=${opts.hstsMaxAge}${opts.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`],
    ['x-frame-options', opts.frameOptions],
    ['x-content-type-options', opts.contentTypeOptions],
    ['referrer-policy', opts.referrerPolicy],
  ];
  return async function securityHeaders(c: Context, next) {
    await next();
    if (!opts.enabled) return;
    const h = c.res.headers;
    for (const [k, v] of fixed) h.set(k, v);
    // The login UI runs under its own, stricter policy instead of the configured one.
    if (LOGIN_UI.test(c.req.path)) h.set('content-security-policy', PAGE_CSP);
    else if (opts.csp !== undefined) h.set('content-security-policy', opts.csp);
  };
}
