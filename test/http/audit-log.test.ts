import { beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../../src/core.js';
import { edgeOptions } from '../../src/http/app.js';
import { validateLane } from '../../src/http/validate-lane.js';
import { LAST_ADMIN_REVOKE } from '../../src/keys/admin-ops.js';
import { closeServer, listen } from '../../src/server.js';
import { createLogger, shortId } from '../../src/util/logger.js';
import { sendRaw } from '../helpers/raw-http.js';
import { CLIENT_PEER, PROXY_PEER, type TestService } from '../helpers/service.js';
import { addClientKey, addUser, mintPair } from '../helpers/http.js';
import { adminWorld, call, clientCaller, dataOf, type AdminWorld } from './admin-fixtures.js';

/**
 * Issue 12 item 3: the audit line of every /admin mutation, forward-auth decision lines at debug
 * (-v), request lines at trace (-vv), level names as strings. Lines are captured from the
 * service's own logger factory (createLogger with a destination), so the format is the real one.
 */

type Line = Record<string, unknown>;

function capture(t: TestService, level: string): { lines: Line[]; raw: string[] } {
  const lines: Line[] = [];
  const raw: string[] = [];
  (t.svc.core as { log: Core['log'] }).log = createLogger(level, {
    write: (l: string) => {
      raw.push(l);
      lines.push(JSON.parse(l) as Line);
    },
  });
  return { lines, raw };
}

const audits = (lines: Line[]) => lines.filter((l) => l.audit === true);
/** The fields an audit line is pinned by (time, pid, hostname vary). */
const pinned = ({ time: _t, pid: _p, hostname: _h, ...rest }: Line) => rest;

describe('Audit: one line per /admin mutation (issue 12 item 3)', () => {
  let w: AdminWorld;
  let log: { lines: Line[]; raw: string[] };
  const admin = () => shortId(w.adminId);

  beforeEach(async () => {
    w = await adminWorld();
    log = capture(w.t, 'info');
  });

  it('POST /admin/revoke: ok, with actor, target, client and status; the level is a name', async () => {
    const client = await addClientKey(w.t, w.adminId, ['context:list']);
    const res = await call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: client } });
    expect(res.status).toBe(200);
    expect(audits(log.lines).map(pinned)).toEqual([
      {
        level: 'info',
        service: 'mero-auth',
        audit: true,
        action: 'key.revoke',
        actor: admin(),
        target: shortId(client),
        client: CLIENT_PEER,
        result: 'ok',
        status: 200,
        msg: 'audit',
      },
    ]);
  });

  it('POST /admin/revoke of the last admin: a 200 that refuses is result "refused" with the reason', async () => {
    const res = await call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: w.adminId } });
    expect(await dataOf(res)).toEqual({ success: false, message: LAST_ADMIN_REVOKE });
    expect(audits(log.lines)).toEqual([
      expect.objectContaining({
        action: 'key.revoke',
        actor: admin(),
        target: admin(),
        result: 'refused',
        reason: LAST_ADMIN_REVOKE,
      }),
    ]);
  });

  it('POST /admin/keys: account.create then account.update; the password never reaches the log', async () => {
    const body = {
      public_key: 'bob',
      auth_method: 'user_password',
      provider_data: { username: 'bob', password: 'bob-secret-password-9' },
    };
    expect((await call(w.t, 'POST', '/admin/keys', { token: w.admin.access, body })).status).toBe(200);
    expect((await call(w.t, 'POST', '/admin/keys', { token: w.admin.access, body })).status).toBe(200);
    expect(audits(log.lines)).toEqual([
      expect.objectContaining({ action: 'account.create', actor: admin(), target: 'bob', result: 'ok', outcome: 'created' }),
      expect.objectContaining({ action: 'account.update', actor: admin(), target: 'bob', result: 'ok', outcome: 'unchanged' }),
    ]);
    expect(log.raw.join('')).not.toContain('bob-secret-password-9');
  });

  it('DELETE /admin/keys/:key_id: ok for another root key; the last one is refused', async () => {
    const bob = await addUser(w.t, 'bob', 'bob-secret-password-9');
    expect((await call(w.t, 'DELETE', `/admin/keys/${bob}`, { token: w.admin.access })).status).toBe(200);
    expect((await call(w.t, 'DELETE', `/admin/keys/${w.adminId}`, { token: w.admin.access })).status).toBe(200);
    expect(audits(log.lines)).toEqual([
      expect.objectContaining({ action: 'root_key.revoke', actor: admin(), target: shortId(bob), result: 'ok', status: 200 }),
      expect.objectContaining({
        action: 'root_key.revoke',
        target: admin(),
        result: 'refused',
        reason: 'Cannot delete the last active root key',
      }),
    ]);
  });

  it('DELETE …/clients/:client_id names the client key and its parent; a 404 target is refused with the reason', async () => {
    const client = await addClientKey(w.t, w.adminId, ['context:list']);
    expect((await call(w.t, 'DELETE', `/admin/keys/${w.adminId}/clients/${client}`, { token: w.admin.access })).status).toBe(200);
    const missing = await call(w.t, 'DELETE', `/admin/keys/${w.adminId}/clients/no-such-key`, { token: w.admin.access });
    expect(missing.status).toBe(404);
    expect(audits(log.lines)).toEqual([
      expect.objectContaining({ action: 'client_key.revoke', target: shortId(client), parent: admin(), result: 'ok' }),
      expect.objectContaining({
        action: 'client_key.revoke',
        target: 'no-such-…',
        result: 'refused',
        status: 404,
        reason: 'Client key not found',
      }),
    ]);
  });

  it('POST /admin/client-key (mint): the new key as target; neither the minted pair nor a token in the body is logged', async () => {
    const res = await call(w.t, 'POST', '/admin/client-key', {
      token: w.admin.access,
      body: { context_id: 'ctx-1', token: 'body-token-must-not-leak', permissions: ['context:list'] },
    });
    const pair = await dataOf<{ access_token: string; refresh_token: string }>(res);
    const [line] = audits(log.lines);
    expect(audits(log.lines)).toHaveLength(1);
    const minted = JSON.parse(Buffer.from(pair.access_token.split('.')[1] as string, 'base64url').toString()) as { sub: string };
    expect(line).toMatchObject({
      action: 'client_key.mint',
      actor: admin(),
      target: shortId(minted.sub),
      context_id: 'ctx-1',
      result: 'ok',
    });
    const all = log.raw.join('');
    for (const secret of ['body-token-must-not-leak', pair.access_token, pair.refresh_token, w.admin.access]) {
      expect(all).not.toContain(secret);
    }
  });

  it('PUT /admin/keys/:key_id/permissions: the change; a caller without admin is refused at the middleware', async () => {
    const client = await addClientKey(w.t, w.adminId, ['context:list']);
    const ok = await call(w.t, 'PUT', `/admin/keys/${client}/permissions`, {
      token: w.admin.access,
      body: { add: ['context:create'], remove: ['context:list'] },
    });
    expect(ok.status).toBe(200);
    const operatorId = await addUser(w.t, 'operator', 'operator-password-1', { permissions: ['keys:update'] });
    const operator = await mintPair(w.t, { sub: operatorId, permissions: ['keys:update'] });
    const refused = await call(w.t, 'PUT', `/admin/keys/${client}/permissions`, {
      token: operator.access,
      body: { add: ['admin'] },
    });
    expect(refused.status).toBe(403);
    expect(audits(log.lines)).toEqual([
      expect.objectContaining({
        action: 'permissions.update',
        actor: admin(),
        target: shortId(client),
        add: ['context:create'],
        remove: ['context:list'],
        result: 'ok',
      }),
      expect.objectContaining({
        action: 'permissions.update',
        actor: shortId(operatorId),
        target: shortId(client),
        result: 'refused',
        reason: 'permission_denied',
        status: 403,
      }),
    ]);
  });

  it('refusals by the /admin middleware: 403 names the caller, a missing token has no actor', async () => {
    const operator = await clientCaller(w.t, w.adminId, ['context:list']);
    expect((await call(w.t, 'DELETE', `/admin/keys/${w.adminId}`, { token: operator.access })).status).toBe(403);
    expect((await call(w.t, 'POST', '/admin/revoke', { body: { client_id: 'x' } })).status).toBe(400);
    expect(audits(log.lines).map(pinned)).toEqual([
      expect.objectContaining({
        action: 'root_key.revoke',
        actor: shortId(operator.id),
        target: admin(),
        result: 'refused',
        reason: 'permission_denied',
        status: 403,
      }),
      expect.objectContaining({ action: 'key.revoke', actor: null, result: 'refused', reason: 'invalid_request', status: 400 }),
    ]);
  });

  it('the client is the forwarded address from a trusted proxy; reads leave no audit line', async () => {
    const client = await addClientKey(w.t, w.adminId, ['context:list']);
    await w.t.request('/admin/revoke', {
      method: 'POST',
      peer: PROXY_PEER,
      headers: {
        host: 'localhost:3001',
        authorization: `Bearer ${w.admin.access}`,
        'content-type': 'application/json',
        'x-forwarded-for': '198.51.100.23',
      },
      body: JSON.stringify({ client_id: client }),
    });
    await call(w.t, 'GET', '/admin/keys', { token: w.admin.access });
    await call(w.t, 'GET', `/admin/keys/${client}/permissions`, { token: w.admin.access });
    expect(audits(log.lines)).toEqual([expect.objectContaining({ action: 'key.revoke', client: '198.51.100.23' })]);
  });

  it('signing a session out: session.end names the sid prefix, an unknown sid is refused; sign out everywhere counts; listing leaves none', async () => {
    const other = await w.t.login();
    const sid = (JSON.parse(Buffer.from(other.access.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid: string }).sid;
    await call(w.t, 'GET', '/admin/sessions', { token: w.admin.access });
    expect((await call(w.t, 'DELETE', `/admin/sessions/${sid}`, { token: w.admin.access })).status).toBe(200);
    expect((await call(w.t, 'DELETE', '/admin/sessions/no-such-sid', { token: w.admin.access })).status).toBe(404);
    await w.t.login();
    await w.t.login();
    const all = await call(w.t, 'POST', '/admin/sessions/revoke-all', { token: w.admin.access, body: { keep_current: true } });
    expect(await dataOf(all)).toEqual({ revoked: 2 });
    expect(audits(log.lines).map(pinned)).toEqual([
      {
        level: 'info',
        service: 'mero-auth',
        audit: true,
        action: 'session.end',
        actor: admin(),
        target: shortId(sid),
        client: CLIENT_PEER,
        result: 'ok',
        status: 200,
        msg: 'audit',
      },
      expect.objectContaining({
        action: 'session.end',
        target: shortId('no-such-sid'),
        result: 'refused',
        reason: 'Session not found',
        status: 404,
      }),
      expect.objectContaining({ action: 'session.end_all', actor: admin(), result: 'ok', revoked: 2, keep_current: true }),
    ]);
    expect(JSON.stringify(log.lines)).not.toContain(sid);
  });
});

describe('Forward-auth decision lines at debug (-v), request lines at trace (-vv)', () => {
  let w: AdminWorld;
  beforeEach(async () => {
    w = await adminWorld({ forward_auth: { enforce_permissions: true } });
  });
  const decisions = (lines: Line[]) => lines.filter((l) => l.msg === 'forward-auth decision').map(pinned);
  const validate = (headers: Record<string, string>) =>
    w.t.request('/auth/validate', { headers: { host: 'localhost', ...headers } });

  it('allow and each deny reason, with the permission a forwarded route needs; never a query or token', async () => {
    const { lines, raw } = capture(w.t, 'debug');
    const scoped = await clientCaller(w.t, w.adminId, ['context:list']);
    const expired = await mintPair(w.t, { permissions: ['admin'] });
    expect((await validate({})).status).toBe(401);
    expect(
      (
        await validate({
          authorization: `Bearer ${w.admin.access}`,
          'x-forwarded-method': 'GET',
          'x-forwarded-uri': `/admin-api/contexts?token=${w.admin.access}`,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await validate({
          authorization: `Bearer ${scoped.access}`,
          'x-forwarded-method': 'POST',
          'x-forwarded-uri': '/jsonrpc',
        })
      ).status,
    ).toBe(403);
    w.t.clock.advanceSeconds(w.t.svc.config.jwt.access_token_expiry + w.t.svc.config.jwt.leeway_seconds + 1);
    expect((await validate({ authorization: `Bearer ${expired.access}` })).status).toBe(401);

    expect(decisions(lines)).toEqual([
      { level: 'debug', service: 'mero-auth', decision: 'deny', reason: 'missing_token', msg: 'forward-auth decision' },
      {
        level: 'debug',
        service: 'mero-auth',
        decision: 'allow',
        key: shortId(w.adminId),
        forwarded_method: 'GET',
        forwarded_path: '/admin-api/contexts',
        msg: 'forward-auth decision',
      },
      {
        level: 'debug',
        service: 'mero-auth',
        decision: 'deny',
        reason: 'permission_denied',
        key: shortId(scoped.id),
        needed: ['context:execute'],
        forwarded_method: 'POST',
        forwarded_path: '/jsonrpc',
        msg: 'forward-auth decision',
      },
      { level: 'debug', service: 'mero-auth', decision: 'deny', reason: 'token_expired', msg: 'forward-auth decision' },
    ]);
    expect(raw.join('')).not.toContain(w.admin.access);
    expect(raw.join('')).not.toContain(scoped.access);
  });

  it('at info there are no decision or request lines', async () => {
    const { lines } = capture(w.t, 'info');
    await validate({ authorization: `Bearer ${w.admin.access}` });
    await validate({});
    expect(lines.filter((l) => l.msg === 'forward-auth decision' || l.msg === 'request')).toEqual([]);
  });

  it('trace: one line per request — method, raw path, status, duration by the service clock', async () => {
    const { lines } = capture(w.t, 'trace');
    await validate({ authorization: `Bearer ${w.admin.access}` });
    await w.t.request('/auth/health?x=1');
    await w.t.request('/nowhere');
    expect(lines.filter((l) => l.msg === 'request').map(pinned)).toEqual([
      {
        level: 'trace',
        service: 'mero-auth',
        method: 'GET',
        path: '/auth/validate',
        status: 200,
        duration_ms: 0,
        msg: 'request',
      },
      { level: 'trace', service: 'mero-auth', method: 'GET', path: '/auth/health', status: 200, duration_ms: 0, msg: 'request' },
      { level: 'trace', service: 'mero-auth', method: 'GET', path: '/nowhere', status: 404, duration_ms: 0, msg: 'request' },
    ]);
  });

  it('the validate lane steps aside while debug is on, so the app logs every decision', async () => {
    const lane = validateLane(w.t.svc, edgeOptions(w.t.svc));
    let served = 0;
    const listening = await listen(w.t.app, '127.0.0.1:0', {
      lane: (req, res) => {
        const answered = lane(req, res);
        if (answered) served++;
        return answered;
      },
    });
    try {
      const head = ['GET /auth/validate HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${w.admin.access}`];
      expect((await sendRaw(listening.address.port, head)).status).toBe(200);
      expect((await sendRaw(listening.address.port, head)).status).toBe(200);
      expect(served).toBe(1); // warm caches: the lane answers at info
      const { lines } = capture(w.t, 'debug');
      expect((await sendRaw(listening.address.port, head)).status).toBe(200);
      expect(served).toBe(1);
      expect(decisions(lines)).toEqual([expect.objectContaining({ decision: 'allow', key: shortId(w.adminId) })]);
    } finally {
      await closeServer(listening.server, 1000);
    }
  });
});

describe('Audit: POST /auth/mock-token (development only) mints admin tokens', () => {
  it('a mint and a refused attempt are audit lines; the header value and tokens are not logged', async () => {
    const w = await adminWorld({ development: { enable_mock_auth: true, mock_auth_header_value: 'Bearer mock-secret' } });
    const log = capture(w.t, 'info');
    const res = await w.t.post('/auth/mock-token', { client_name: 'audit-test' }, { authorization: 'Bearer mock-secret' });
    const pair = await dataOf<{ access_token: string; refresh_token: string }>(res);
    const keyId = res.headers.get('x-key-id') ?? '';
    const refused = await w.t.post('/auth/mock-token', { client_name: 'audit-test' }, { authorization: 'Bearer wrong' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(audits(log.lines)).toEqual([
      expect.objectContaining({
        action: 'mock_token.mint',
        actor: null,
        target: shortId(keyId),
        client: CLIENT_PEER,
        result: 'ok',
      }),
      expect.objectContaining({ action: 'mock_token.mint', actor: null, client: CLIENT_PEER, result: 'refused' }),
    ]);
    const all = log.raw.join('');
    for (const secret of ['mock-secret', pair.access_token, pair.refresh_token]) expect(all).not.toContain(secret);
  });
});
