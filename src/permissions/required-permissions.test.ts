import { describe, expect, it } from 'vitest';
import { renderPermission } from './render.js';
import { determineRequiredPermissions, normalizeMethod, tableBRowFor, type RouteMethod } from './required-permissions.js';

const req = (method: string, path: string): string[] => determineRequiredPermissions(method, path).map(renderPermission);

describe('§8.1 method normalisation', () => {
  it.each<[string, RouteMethod]>([
    ['GET', 'GET'],
    ['HEAD', 'GET'],
    ['POST', 'POST'],
    ['PUT', 'PUT'],
    ['DELETE', 'DELETE'],
    ['PATCH', 'PATCH'],
    ['OPTIONS', 'ANY'],
    ['TRACE', 'ANY'],
    ['PROPFIND', 'ANY'],
    ['get', 'ANY'],
    ['Post', 'ANY'],
    ['', 'ANY'],
  ])('%j → %s', (method, normalised) => {
    expect(normalizeMethod(method)).toBe(normalised);
  });
});

describe('§8.2 table A, every row', () => {
  it.each<[string, string, string[]]>([
    ['POST', '/jsonrpc', ['context:execute']],
    ['GET', '/admin-api/applications', ['application:list']],
    ['POST', '/admin-api/install-application', ['application:install']],
    ['POST', '/admin-api/uninstall-application', ['application:uninstall']],
    ['GET', '/admin-api/packages', ['package:list-packages']],
    ['GET', '/admin-api/contexts', ['context:list']],
    ['POST', '/admin-api/contexts', ['context:create']],
    ['POST', '/admin-api/contexts/sync', ['context:execute']],
    ['POST', '/admin-api/identity/context', ['context:execute']],
    ['GET', '/admin-api/identity', ['namespace:list']],
    ['GET', '/admin-api/namespaces', ['namespace:list']],
    ['POST', '/admin-api/namespaces', ['namespace:create']],
    ['POST', '/admin-api/groups', ['group:create']],
    ['POST', '/admin-api/groups/join', ['group:manage']],
    ['PUT', '/admin-api/blobs', ['blob:add:stream']],
    ['GET', '/admin-api/blobs', ['blob:list']],
    ['GET', '/admin/keys', ['keys:list']],
    ['POST', '/admin/keys', ['admin']],
    ['POST', '/admin/revoke', ['keys:delete']],
    ['GET', '/admin/keys/clients', ['keys:clients:list']],
    ['POST', '/blobs/stream', ['blob:add:stream']],
    ['POST', '/blobs/file', ['blob:add:file']],
    ['POST', '/blobs/url', ['blob:add:url']],
  ])('%s %s → %j', (method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
  });

  it.each<[string, string, string[]]>([
    ['HEAD', '/admin/keys', ['keys:list']],
    ['HEAD', '/admin-api/contexts', ['context:list']],
    ['GET', '/jsonrpc', []], // outside /admin-api/: an unmapped method requires nothing
    ['PUT', '/admin/revoke', []],
    ['PUT', '/admin-api/contexts', ['admin']], // inside /admin-api/: default deny
    ['OPTIONS', '/admin-api/applications', ['admin']],
    ['post', '/jsonrpc', []], // a lower-case method is ANY
  ])('other methods: %s %s → %j', (method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
  });
});

describe('§8.3 table B, every row and method', () => {
  it.each<[string, string, string, string[]]>([
    ['B1', 'GET', '/admin-api/applications/app', ['application:list[app,]']],
    ['B1', 'DELETE', '/admin-api/applications/app', ['admin']],
    ['B2', 'GET', '/admin-api/contexts/ctx', ['context:list[ctx,]']],
    ['B2', 'DELETE', '/admin-api/contexts/ctx', ['context:delete[ctx,]']],
    ['B2', 'PUT', '/admin-api/contexts/ctx', ['admin']],
    ['B3', 'POST', '/admin-api/contexts/ctx/capabilities/grant', ['context:capabilities:grant[ctx]']],
    ['B3', 'POST', '/admin-api/contexts/ctx/capabilities/revoke', ['context:capabilities:revoke[ctx]']],
    ['B3', 'GET', '/admin-api/contexts/ctx/capabilities/grant', ['admin']],
    ['B4', 'POST', '/admin-api/contexts/ctx/application', ['context:application:update[ctx]']],
    ['B4', 'GET', '/admin-api/contexts/ctx/application', ['admin']],
    ['B5', 'GET', '/admin-api/contexts/for-application/app', ['context:list[app,]']],
    ['B5', 'POST', '/admin-api/contexts/for-application/app', ['admin']],
    ['B6', 'GET', '/admin-api/contexts/with-executors/for-application/app', ['context:list[app,]']],
    ['B7', 'DELETE', '/blobs/blob', ['blob:remove[blob,]']],
    ['B7', 'GET', '/blobs/blob', []], // empty, then C has no GET rule for blobs
    ['B8', 'DELETE', '/admin/keys/id', ['keys:delete']],
    ['B8', 'GET', '/admin/keys/id', []],
    ['B9', 'GET', '/admin/keys/id/permissions', ['keys:permissions:get[id]']],
    ['B9', 'PUT', '/admin/keys/id/permissions', ['admin']],
    ['B9', 'POST', '/admin/keys/id/permissions', []],
    ['B10', 'DELETE', '/admin/keys/id/clients/cid', ['keys:clients:delete']],
    ['B10', 'GET', '/admin/keys/id/clients/cid', []],
    ['B11', 'GET', '/admin-api/packages/pkg/versions', ['package:list-versions[pkg,]']],
    ['B12', 'GET', '/admin-api/packages/pkg/latest', ['package:get-latest-version[pkg,]']],
    ['B12', 'POST', '/admin-api/packages/pkg/latest', ['admin']],
    ['B13', 'GET', '/admin-api/namespaces/for-application/app', ['namespace:list[app,]']],
    ['B14', 'GET', '/admin-api/namespaces/ns', ['namespace:list[ns,]']],
    ['B14', 'DELETE', '/admin-api/namespaces/ns', ['namespace:manage[ns,]']],
    ['B14', 'PATCH', '/admin-api/namespaces/ns', ['admin']],
    ['B15', 'GET', '/admin-api/namespaces/ns/identity', ['namespace:list[ns,]']],
    ['B15', 'GET', '/admin-api/namespaces/ns/groups', ['namespace:list[ns,]']],
    ['B15', 'POST', '/admin-api/namespaces/ns/groups', ['group:create']],
    ['B15', 'POST', '/admin-api/namespaces/ns/identity', ['admin']],
    ['B16', 'POST', '/admin-api/namespaces/ns/invite', ['namespace:manage[ns,]']],
    ['B16', 'POST', '/admin-api/namespaces/ns/join', ['namespace:manage[ns,]']],
    ['B16', 'POST', '/admin-api/namespaces/ns/leave', ['namespace:manage[ns,]']],
    ['B16', 'GET', '/admin-api/namespaces/ns/leave', ['admin']],
    ['B17', 'GET', '/admin-api/groups/grp', ['group:list[grp,]']],
    ['B17', 'HEAD', '/admin-api/groups/grp/x/y', ['group:list[grp,]']],
    ['B17', 'POST', '/admin-api/groups/grp/', ['group:manage[grp,]']],
    ['B17', 'PUT', '/admin-api/groups/grp/a', ['group:manage[grp,]']],
    ['B17', 'PATCH', '/admin-api/groups/grp', ['group:manage[grp,]']],
    ['B17', 'DELETE', '/admin-api/groups/grp', ['group:manage[grp,]']],
    ['B17', 'OPTIONS', '/admin-api/groups/grp', ['admin']],
    ['B17 (join)', 'GET', '/admin-api/groups/join', ['admin']],
    ['B17 (join)', 'DELETE', '/admin-api/groups/join/x', ['admin']],
    ['B18', 'GET', '/admin-api/contexts/ctx/identities', ['context:list[ctx,]']],
    ['B18', 'GET', '/admin-api/contexts/ctx/identities-owned', ['context:list[ctx,]']],
    ['B18', 'GET', '/admin-api/contexts/ctx/storage', ['context:list[ctx,]']],
    ['B18', 'GET', '/admin-api/contexts/ctx/group', ['context:list[ctx,]']],
    ['B18', 'DELETE', '/admin-api/contexts/ctx/storage', ['admin']],
    ['B19', 'POST', '/admin-api/contexts/ctx/join', ['context:execute[ctx,]']],
    ['B19', 'POST', '/admin-api/contexts/ctx/leave', ['context:execute[ctx,]']],
    ['B19', 'POST', '/admin-api/contexts/ctx/resync', ['context:execute[ctx,]']],
    ['B19', 'GET', '/admin-api/contexts/ctx/resync', ['admin']],
    ['B20', 'POST', '/admin-api/contexts/sync/ctx', ['context:execute[ctx,]']],
    ['B21', 'GET', '/admin-api/blobs/blob', ['blob:get[blob,]']],
    ['B21', 'HEAD', '/admin-api/blobs/blob', ['blob:get[blob,]']],
    ['B21', 'DELETE', '/admin-api/blobs/blob', ['blob:remove[blob,]']],
    ['B21', 'PUT', '/admin-api/blobs/blob', ['admin']],
    ['B22', 'POST', '/admin-api/alias/create/application', ['context:alias:create:application']],
    ['B22', 'POST', '/admin-api/alias/lookup/identity/ctx/name', ['context:alias:lookup:identity']],
    ['B22', 'POST', '/admin-api/alias/delete/context/', ['context:alias:delete:context']],
    ['B22', 'GET', '/admin-api/alias/create/context', ['admin']],
    ['B22 (unknown type)', 'POST', '/admin-api/alias/create/user', ['admin']],
    ['B23', 'GET', '/admin-api/alias/list/context', ['context:alias:list:context']],
    ['B23', 'GET', '/admin-api/alias/list/identity/ctx', ['context:alias:list:identity']],
    ['B23', 'POST', '/admin-api/alias/list/context', ['admin']],
    ['B24', 'GET', '/admin-api/applications/app/versions', ['application:list[app,]']],
    ['B24', 'POST', '/admin-api/applications/app/versions', ['admin']],
  ])('%s: %s %s → %j', (_row, method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
  });

  it('B-rows capture exactly one whole segment', () => {
    expect(req('GET', '/admin-api/applications/a/b')).toEqual(['admin']);
    expect(req('GET', '/admin-api/contexts/')).toEqual(['admin']);
    expect(req('DELETE', '/blobs/')).toEqual([]);
  });
});

describe('§8.3 first match decides (B is evaluated in order)', () => {
  it.each<[string, string, string, string, string[]]>([
    ['B2 takes sync as a context id', 'GET', '/admin-api/contexts/sync', 'B2', ['context:list[sync,]']],
    [
      'B3 before B5',
      'POST',
      '/admin-api/contexts/for-application/capabilities/grant',
      'B3',
      ['context:capabilities:grant[for-application]'],
    ],
    [
      'B4 before B5',
      'POST',
      '/admin-api/contexts/for-application/application',
      'B4',
      ['context:application:update[for-application]'],
    ],
    ['B5 before B18', 'GET', '/admin-api/contexts/for-application/group', 'B5', ['context:list[group,]']],
    ['B5 stops B, even with nothing for POST', 'POST', '/admin-api/contexts/for-application/join', 'B5', ['admin']],
    ['B19 before B20', 'POST', '/admin-api/contexts/sync/join', 'B19', ['context:execute[sync,]']],
    [
      'B14 takes for-application as a namespace id',
      'GET',
      '/admin-api/namespaces/for-application',
      'B14',
      ['namespace:list[for-application,]'],
    ],
    ['B9 takes clients as a key id', 'GET', '/admin/keys/clients/permissions', 'B9', ['keys:permissions:get[clients]']],
  ])('%s', (_why, method, path, row, expected) => {
    expect(tableBRowFor(path)).toBe(row);
    expect(req(method, path)).toEqual(expected);
  });
});

describe('§8.3 how A and B combine', () => {
  it.each<[string, string, string[]]>([
    ['POST', '/admin-api/contexts/sync', ['context:execute']],
    ['GET', '/admin/keys/clients', ['keys:clients:list']],
    ['POST', '/blobs/stream', ['blob:add:stream']],
    ['POST', '/admin-api/groups/join', ['group:manage']],
    ['DELETE', '/admin/keys/clients', ['keys:delete']],
  ])('%s %s → %j', (method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
  });
});

describe('§8.4 table C (first-segment fallback)', () => {
  it.each<[string, string, string[]]>([
    ['GET', '/applications', ['application:list']],
    ['HEAD', '/applications/app', ['application:list[app,]']],
    ['GET', '/applications/app/more', ['application:list[app,]']],
    ['POST', '/applications', ['application:install']],
    ['POST', '/applications/app/x', ['application:install']],
    ['DELETE', '/applications/app', ['application:uninstall[app,]']],
    ['DELETE', '/applications', []],
    ['PUT', '/applications/app', []],
    ['POST', '/blobs/stream/x', ['blob:add:stream']],
    ['POST', '/blobs/file/x', ['blob:add:file']],
    ['POST', '/blobs/url/x', ['blob:add:url']],
    ['POST', '/blobs/zip', []],
    ['POST', '/blobs/constructor', []],
    ['POST', '/blobs', []],
    ['DELETE', '/blobs/a/b', ['blob:remove[a,]']],
    ['DELETE', '/blobs', []],
    ['GET', '/blobs/a/b', []],
    ['GET', '/contexts', ['context:list']],
    ['GET', '/contexts/c', ['context:list[c,]']],
    ['GET', '/contexts/c/x', []],
    ['POST', '/contexts', ['context:create']],
    ['POST', '/contexts/c', []],
    ['DELETE', '/contexts/c', ['context:delete[c,]']],
    ['DELETE', '/contexts/c/x', []],
    ['DELETE', '/contexts', []],
    ['POST', '/contexts/c/leave', ['context:leave[c,]']],
    ['POST', '/contexts/c/invite', ['context:invite[c,]']],
    ['POST', '/contexts/c/execute', ['context:execute[c,]']],
    ['POST', '/contexts/c/execute/more', ['context:execute[c,]']],
    ['POST', '/contexts/c/other', []],
    ['GET', '/contexts/c/leave', []],
    ['GET', '/keys', ['keys:list']],
    ['HEAD', '/keys/a/b/c', ['keys:list']],
    ['POST', '/keys/x', ['keys:create']],
    ['DELETE', '/keys', ['keys:delete']],
    ['PUT', '/keys', []],
    ['GET', '//contexts//c', ['context:list[c,]']], // empty segments are dropped
    ['GET', '/Contexts', []], // case-sensitive
    ['GET', '/keysx', []],
    ['GET', '/admin/applications', []], // full paths: the first segment is admin
    ['GET', '/admin/contexts', []],
    ['POST', '/admin-api', []],
    ['GET', '', []],
    ['GET', '/', []],
  ])('%s %j → %j', (method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
  });
});

describe('§8.5 default deny', () => {
  it.each([
    ['POST', '/admin-api/install-dev-application'],
    ['GET', '/admin-api/usage'],
    ['GET', '/admin-api/network/status'],
    ['GET', '/admin-api/peers'],
    ['GET', '/admin-api/tee/info'],
    ['POST', '/admin-api/tee/attest'],
    ['POST', '/admin-api/contexts/invite-specialized-node'],
    ['POST', '/admin-api/contexts/ctx-1'],
    ['DELETE', '/admin-api/applications'],
    ['POST', '/admin-api/blobs/blob-1'],
    ['GET', '/admin-api/groups/join'],
    ['GET', '/admin-api/'],
    ['GET', '/admin-api//contexts'],
    ['GET', '/admin-api/contexts/'],
  ])('%s %s → [admin]', (method, path) => {
    expect(req(method, path)).toEqual(['admin']);
  });

  it.each([
    ['GET', '/ws'],
    ['GET', '/sse'],
    ['GET', '/sse/session/1'],
    ['GET', '/auth/validate'],
    ['POST', '/auth/token'],
    ['GET', '/auth/jwks.json'],
    ['HEAD', '/auth/jwks.json'],
    ['GET', '/auth/openapi.json'],
    ['HEAD', '/auth/openapi.json'],
    ['GET', '/admin/identity'],
    ['GET', '/admin/metrics'],
    ['POST', '/admin/client-key'],
    ['GET', '/admin-api'],
    ['GET', '/admin-apix/usage'],
    ['GET', '/Admin-api/usage'],
  ])('outside /admin-api/: %s %s → []', (method, path) => {
    expect(req(method, path)).toEqual([]);
  });
});

describe('§8.6 our /admin/* requirements (full path)', () => {
  it.each<[string, string, string[]]>([
    ['GET', '/admin/keys', ['keys:list']],
    ['HEAD', '/admin/keys', ['keys:list']],
    ['POST', '/admin/keys', ['admin']],
    ['DELETE', '/admin/keys/key-1', ['keys:delete']],
    ['GET', '/admin/keys/clients', ['keys:clients:list']],
    ['DELETE', '/admin/keys/key-1/clients/cid-1', ['keys:clients:delete']],
    ['GET', '/admin/keys/key-1/permissions', ['keys:permissions:get[key-1]']],
    ['PUT', '/admin/keys/key-1/permissions', ['admin']],
    ['POST', '/admin/revoke', ['keys:delete']],
    ['DELETE', '/admin/keys/clients', ['keys:delete']],
    ['POST', '/admin/client-key', []],
    ['GET', '/admin/identity', []],
    ['GET', '/admin/metrics', []],
    ['PATCH', '/admin/keys', []], // a wrong method: usually none, then 405
    ['GET', '/admin/revoke', []],
  ])('%s %s → %j', (method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
  });
});

describe('additions: the caller’s own sessions need no permission (table A rows and row S1)', () => {
  it.each<[string, string, string | undefined]>([
    ['GET', '/admin/sessions', undefined],
    ['HEAD', '/admin/sessions', undefined],
    ['POST', '/admin/sessions/revoke-all', 'S1'],
    ['DELETE', '/admin/sessions/0f8fad5b-d9cb-469f-a165-70867728950e', 'S1'],
    ['PUT', '/admin/sessions/x', 'S1'],
  ])('%s %s → [] (B row %s)', (method, path, row) => {
    expect(req(method, path)).toEqual([]);
    expect(tableBRowFor(path)).toBe(row);
  });
});

describe('additions (issue 13): the caller’s own passkeys and second factor need no permission (table A rows and row P1)', () => {
  it.each<[string, string, string | undefined]>([
    ['GET', '/admin/passkeys', undefined],
    ['POST', '/admin/passkeys', undefined],
    ['POST', '/admin/passkeys/options', 'P1'],
    ['DELETE', '/admin/passkeys/AbCd-_123', 'P1'],
    ['GET', '/admin/second-factor', undefined],
    ['PUT', '/admin/second-factor', undefined],
    ['POST', '/admin/totp', undefined],
    ['POST', '/admin/totp/confirm', undefined],
    ['POST', '/auth/passkey/options', undefined],
  ])('%s %s → [] (B row %s)', (method, path, row) => {
    expect(req(method, path)).toEqual([]);
    expect(tableBRowFor(path)).toBe(row);
  });
});

describe('§12 the raw path is matched, never decoded or normalised', () => {
  it.each<[string, string, string[]]>([
    ['an encoded slash is not a separator', '/admin-api/contexts%2Fx', ['admin']],
    ['a captured id stays encoded', '/admin-api/contexts/a%2Fb', ['context:list[a%2Fb,]']],
    ['a captured id stays encoded', '/admin-api/applications/app%201', ['application:list[app%201,]']],
    ['no trailing-slash folding', '/admin-api/contexts/', ['admin']],
    ['no case folding', '/Admin-api/contexts', []],
    ['no dot-segment resolution', '/admin-api/x/../contexts', ['admin']],
    ['no dot-segment resolution', '/admin-api/contexts/ctx/../storage', ['admin']],
  ])('%s: GET %s → %j', (_why, path, expected) => {
    expect(req('GET', path)).toEqual(expected);
  });
});

describe('performance contract', () => {
  it('constant results are shared and frozen; captured results are fresh', () => {
    const a = determineRequiredPermissions('POST', '/jsonrpc');
    expect(determineRequiredPermissions('POST', '/jsonrpc')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a[0])).toBe(true);
    expect(determineRequiredPermissions('GET', '/ws')).toBe(determineRequiredPermissions('GET', '/sse'));
    const b = determineRequiredPermissions('GET', '/admin-api/contexts/c1');
    expect(determineRequiredPermissions('GET', '/admin-api/contexts/c1')).not.toBe(b);
  });
});
