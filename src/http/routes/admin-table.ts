/**
 * The `/admin` routes of wire §1.1 with their `Allow` lists (§1.2). Statics come first: they win
 * over the `:key_id` pattern for every method (`DELETE /admin/keys/clients` is a 405). The
 * middleware matches paths with the same table, so it runs exactly for these routes, and the
 * OpenAPI document takes each path's `Allow` list from it.
 */
const ROUTES: ReadonlyArray<{ path: string; allow: string; re: RegExp }> = [
  { path: '/admin/revoke', allow: 'POST', re: /^\/admin\/revoke$/ },
  { path: '/admin/keys', allow: 'GET,HEAD,POST', re: /^\/admin\/keys$/ },
  { path: '/admin/keys/clients', allow: 'GET,HEAD', re: /^\/admin\/keys\/clients$/ },
  { path: '/admin/client-key', allow: 'POST', re: /^\/admin\/client-key$/ },
  { path: '/admin/identity', allow: 'GET,HEAD', re: /^\/admin\/identity$/ },
  { path: '/admin/metrics', allow: 'GET,HEAD', re: /^\/admin\/metrics$/ },
  { path: '/admin/sessions', allow: 'GET,HEAD', re: /^\/admin\/sessions$/ },
  { path: '/admin/sessions/revoke-all', allow: 'POST', re: /^\/admin\/sessions\/revoke-all$/ },
  { path: '/admin/sessions/:sid', allow: 'DELETE', re: /^\/admin\/sessions\/[^/]+$/ },
  { path: '/admin/passkeys', allow: 'GET,HEAD,POST', re: /^\/admin\/passkeys$/ },
  { path: '/admin/passkeys/options', allow: 'POST', re: /^\/admin\/passkeys\/options$/ },
  { path: '/admin/passkeys/:credential_id', allow: 'DELETE', re: /^\/admin\/passkeys\/[^/]+$/ },
  { path: '/admin/second-factor', allow: 'GET,HEAD,PUT', re: /^\/admin\/second-factor$/ },
  { path: '/admin/totp', allow: 'POST', re: /^\/admin\/totp$/ },
  { path: '/admin/totp/confirm', allow: 'POST', re: /^\/admin\/totp\/confirm$/ },
  { path: '/admin/keys/:key_id', allow: 'DELETE', re: /^\/admin\/keys\/[^/]+$/ },
  {
    path: '/admin/keys/:key_id/clients/:client_id',
    allow: 'DELETE',
    re: /^\/admin\/keys\/[^/]+\/clients\/[^/]+$/,
  },
  { path: '/admin/keys/:key_id/permissions', allow: 'GET,HEAD,PUT', re: /^\/admin\/keys\/[^/]+\/permissions$/ },
];

/** The `/admin` route a path names (first match, statics first), or undefined. */
export function matchAdminRoute(path: string): string | undefined {
  if (!path.startsWith('/admin/')) return undefined;
  for (const r of ROUTES) if (r.re.test(path)) return r.path;
  return undefined;
}

/** The `Allow` list of an `/admin` route, named as in the table (`/admin/keys/:key_id`); '' for none. */
export const allowOf = (path: string): string => ROUTES.find((r) => r.path === path)?.allow ?? '';
