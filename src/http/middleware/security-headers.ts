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
const NONE: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The headers of wire §2.5 for a request path, computed once per variant: every response
 * carries them, replacing any handler value; the login UI gets its own stricter CSP.
 */
export function securityHeaders(opts: SecurityHeaderOptions): (path: string) => Readonly<Record<string, string>> {
  if (!opts.enabled) return () => NONE;
  const fixed: Record<string, string> = {
    'strict-transport-security': `max-age=${opts.hstsMaxAge}${opts.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`,
    'x-frame-options': opts.frameOptions,
    'x-content-type-options': opts.contentTypeOptions,
    'referrer-policy': opts.referrerPolicy,
  };
  const forPage = Object.freeze({ ...fixed, 'content-security-policy': PAGE_CSP });
  const forApi = Object.freeze(opts.csp === undefined ? fixed : { ...fixed, 'content-security-policy': opts.csp });
  return (path) => (LOGIN_UI.test(path) ? forPage : forApi);
}
