import { allowsRoute } from './allows-route.js';
import { rawPathProblem } from './raw-path.js';

/**
 * `unchecked`: a forwarded header is missing, so `/auth/validate` only authenticates.
 * `allow` / `deny`: the outcome of the route check (deny → 403 `permission_denied`).
 */
export type ForwardedRouteDecision = 'unchecked' | 'allow' | 'deny';

/**
 * Forward-auth permission check (permissions.md §8.6, wire-contract §3.4 row 6). The caller
 * decides whether `forward_auth.enforce_permissions` is on; this applies the rest:
 * both headers present, path = the raw `X-Forwarded-Uri` up to the first `?`, fail closed on a
 * path that does not start with `/` or that §12 refuses.
 */
export function checkForwardedRoute(
  held: readonly string[],
  forwardedMethod: string | undefined,
  forwardedUri: string | undefined,
): ForwardedRouteDecision {
  if (forwardedMethod === undefined || forwardedUri === undefined) return 'unchecked';
  const q = forwardedUri.indexOf('?');
  const path = q === -1 ? forwardedUri : forwardedUri.slice(0, q);
  if (!path.startsWith('/') || rawPathProblem(path) !== undefined) return 'deny';
  return allowsRoute(held, forwardedMethod, path) ? 'allow' : 'deny';
}
