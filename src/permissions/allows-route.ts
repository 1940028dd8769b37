import { determineRequiredPermissions } from './required-permissions.js';
import { validatePermissions } from './validate.js';

/**
 * The authorisation step shared by the `/admin/*` middleware, the embedded guard and forward
 * auth (§8.6): `validatePermissions(held, determineRequiredPermissions(method, path))`.
 * `path` is the raw path (§8.1, §12); reject malformed paths with `rawPathProblem` first.
 */
export function allowsRoute(held: readonly string[], method: string, path: string): boolean {
  return validatePermissions(held, determineRequiredPermissions(method, path));
}
