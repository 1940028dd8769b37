/**
 * `mero-auth set-admin --reset-second-factor` through the real binary (issue 13): the offline
 * recovery path removes an account's second factor and passkeys from the LevelDB store, leaves
 * its password, and writes an audit line; an unknown account is exit 2.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptySecondFactor, SecondFactorStore } from '../../src/second-factor/records.js';
import { LevelStore } from '../../src/storage/level.js';
import { passkeyRecord } from '../helpers/second-factor.js';
import { FAST_ENV, runCli, tempDir } from './process.js';

describe('set-admin --reset-second-factor', () => {
  it('removes the policy and passkeys of the account; the password stays', async () => {
    const cwd = await tempDir();
    const made = await runCli({
      cwd,
      args: ['set-admin', '--username', 'alice', '--password-stdin'],
      env: FAST_ENV,
      stdin: 'alice-password-1\n',
    });
    expect(made.code, made.proc.describe()).toBe(0);

    // Give alice a TOTP policy and a passkey, as the HTTP routes would have.
    const path = join(cwd, 'data', 'auth');
    let store = await LevelStore.open(path);
    let records = new SecondFactorStore(store);
    const user = JSON.parse(Buffer.from((await store.get('user:alice')) ?? new Uint8Array()).toString()) as {
      key_id: string;
      password_hash: string;
    };
    await store.batch([
      records.policyOp('alice', {
        ...emptySecondFactor(user.key_id, 1),
        second_factor: 'totp',
        totp: { sealed: 'x', created_at: 1 },
      }),
      ...records.passkeyOps(passkeyRecord({ username: 'alice', key_id: user.key_id })),
    ]);
    await store.close();

    const r = await runCli({ cwd, args: ['set-admin', '--username', 'alice', '--reset-second-factor'], env: FAST_ENV });
    expect(r.code, r.proc.describe()).toBe(0);
    expect(r.stdout).toBe("second factor of 'alice' reset: 1 passkey removed; the password alone signs in\n");
    expect(r.proc.logRecords()).toEqual([
      expect.objectContaining({ audit: true, action: 'second_factor.reset', actor: 'cli', target: 'alice', result: 'ok' }),
    ]);

    store = await LevelStore.open(path);
    records = new SecondFactorStore(store);
    expect(await records.policy('alice', user.key_id)).toBeUndefined();
    expect(await records.getPasskey('cred1')).toBeUndefined();
    const after = JSON.parse(Buffer.from((await store.get('user:alice')) ?? new Uint8Array()).toString()) as {
      password_hash: string;
    };
    expect(after.password_hash).toBe(user.password_hash);
    await store.close();

    const unknown = await runCli({ cwd, args: ['set-admin', '--username', 'bob', '--reset-second-factor'], env: FAST_ENV });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("mero-auth: no account 'bob'");
    const bad = await runCli({
      cwd,
      args: ['set-admin', '--username', 'alice', '--reset-second-factor', '--password-stdin'],
      env: FAST_ENV,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--reset-second-factor takes no password');
  });
});
