import { describe, expect, it } from 'vitest';
import { checkForwardedRoute, type ForwardedRouteDecision } from './forward-auth.js';

describe('checkForwardedRoute (§8.6, wire §3.4 row 6)', () => {
  const held = ['context:list'];
  it.each<[string, string | undefined, string | undefined, ForwardedRouteDecision]>([
    ['no method header', undefined, '/admin-api/usage', 'unchecked'],
    ['no URI header', 'GET', undefined, 'unchecked'],
    ['the query is stripped at the first ?', 'GET', '/admin-api/contexts?a=1?b=2', 'allow'],
    ['an empty query', 'GET', '/admin-api/contexts?', 'allow'],
    ['HEAD reads like GET', 'HEAD', '/admin-api/contexts', 'allow'],
    ['a lower-case method is ANY, which no row requires anything for', 'post', '/jsonrpc', 'allow'],
    ['ANY under /admin-api/ is default-denied', 'OPTIONS', '/admin-api/contexts', 'deny'],
    ['fail closed: no leading slash', 'GET', 'admin-api/contexts', 'deny'],
    ['fail closed: an absolute URI', 'GET', 'http://node/admin-api/contexts', 'deny'],
    ['fail closed: empty', 'GET', '', 'deny'],
    ['fail closed: only a query', 'GET', '?token=x', 'deny'],
    ['§12: repeated slashes are refused, not matched as a non-/admin-api/ path', 'GET', '//admin-api/usage', 'deny'],
    ['§12: dot segments are refused', 'GET', '/ws/../admin-api/usage', 'deny'],
    ['§12: encoded slashes are refused', 'GET', '/admin-api/contexts%2Fctx-1', 'deny'],
    ['a path outside /admin-api/ requires nothing', 'GET', '/sse/session/1', 'allow'],
  ])('%s: %s %s → %s', (_why, method, uri, expected) => {
    expect(checkForwardedRoute(held, method, uri)).toBe(expected);
  });

  it('a scoped grant is matched against the raw captured segment', () => {
    expect(checkForwardedRoute(['context:list[ctx%201]'], 'GET', '/admin-api/contexts/ctx%201/storage')).toBe('allow');
    expect(checkForwardedRoute(['context:list[ctx 1]'], 'GET', '/admin-api/contexts/ctx%201/storage')).toBe('deny');
  });
});
