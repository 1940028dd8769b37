import type { Context, MiddlewareHandler } from 'hono';
import { PAGE_CSP } from '../pages/login.js';
import { addBaseHeaders, isComplete } from '../respond.js';

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
  const fixed: Record<string, string> = {
    'strict-transport-security': `max-age=${opts.hstsMaxAge}${opts.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`,
    'x-frame-options': opts.frameOptions,
    'x-content-type-options': opts.contentTypeOptions,
    'referrer-policy': opts.referrerPolicy,
  };
  // The login UI runs under its own, stricter policy instead of the configured one.
  const forPage = Object.freeze({ ...fixed, 'content-security-policy': PAGE_CSP });
  const forApi = Object.freeze(opts.csp === undefined ? fixed : { ...fixed, 'content-security-policy': opts.csp });
  return async function securityHeaders(c: Context, next) {
    if (!opts.enabled) return next();
    const headers = LOGIN_UI.test(c.req.path) ? forPage : forApi;
    addBaseHeaders(c, headers);
    await next();
    if (isComplete(c.res)) return;
    const h = c.res.headers;
    for (const k in headers) h.set(k, headers[k as keyof typeof headers] as string);
  };
}
