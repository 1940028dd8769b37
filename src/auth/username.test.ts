import { afterEach, describe, expect, it } from 'vitest';
import { makeTestService, type TestService } from '../../test/helpers/service.js';
import type { Core } from '../core.js';
import type { UserRecord } from '../providers/user-record.js';
import { createLogger } from '../util/logger.js';
import { canonicalUsername, findUser, migrateUsernames } from './username.js';

describe('canonicalUsername — accepted spellings (RFC 8265 UsernameCaseMapped: NFKC, lower-case, NFC)', () => {
  const cases: Array<[string, string, string]> = [
    ['plain ASCII', 'admin', 'admin'],
    ['upper case', 'ADMIN', 'admin'],
    ['mixed case', 'Admin', 'admin'],
    ['full-width letters', 'ａｄｍｉｎ', 'admin'],
    ['full-width upper case', 'ＡＤＭＩＮ', 'admin'],
    ['NFD é (e + U+0301)', 'jos\u0065\u0301', 'jos\u00e9'],
    ['NFC é', 'jos\u00e9', 'jos\u00e9'],
    ['upper-case NFD É', 'JOS\u0045\u0301', 'jos\u00e9'],
    ['no-break space inside → U+0020', 'jane\u00a0doe', 'jane doe'],
    ['ideographic space inside → U+0020', 'jane\u3000doe', 'jane doe'],
    ['ligature ﬁ → fi', '\ufb01le', 'file'],
    ['superscript two → 2', 'user\u00b2', 'user2'],
    ['non-Latin script kept', '日本語ユーザー', '日本語ユーザー'],
    ['half-width katakana → full-width', 'ﾕｰｻﾞｰ', 'ユーザー'],
    ['Greek upper case', 'ΑΛΦΑ', 'αλφα'],
    ['emoji kept', 'bob😀', 'bob😀'],
    ['punctuation kept', 'ops.team-1_x@node', 'ops.team-1_x@node'],
    ['exactly 256 code points', 'a'.repeat(256), 'a'.repeat(256)],
    ['256 astral code points', '😀'.repeat(256), '😀'.repeat(256)],
    ['258 NFD code points that compose to 129', 'e\u0301'.repeat(129), '\u00e9'.repeat(129)],
  ];
  it.each(cases)('%s: %j → %j', (_label, raw, name) => {
    expect(canonicalUsername(raw)).toEqual({ ok: true, name });
  });

  it.each(cases)('%s: the canonical name is its own canonical name (idempotent)', (_label, raw) => {
    const first = canonicalUsername(raw);
    expect(first.ok).toBe(true);
    if (first.ok) expect(canonicalUsername(first.name)).toEqual(first);
  });
});

describe('canonicalUsername — refused spellings, with the exact reason', () => {
  const cases: Array<[string, string, string]> = [
    ['empty', '', 'username must not be empty'],
    ['NUL', 'admin\u0000', 'username contains a control character (U+0000)'],
    ['BEL', 'ad\u0007min', 'username contains a control character (U+0007)'],
    ['tab', 'ad\tmin', 'username contains a control character (U+0009)'],
    ['newline', 'admin\n', 'username contains a control character (U+000A)'],
    ['DEL', 'admin\u007f', 'username contains a control character (U+007F)'],
    ['C1 control', 'admin\u0085', 'username contains a control character (U+0085)'],
    ['zero-width space', 'ad\u200Bmin', 'username contains an invisible formatting character (U+200B)'],
    ['zero-width non-joiner', 'ad\u200Cmin', 'username contains an invisible formatting character (U+200C)'],
    ['zero-width joiner', 'ad\u200Dmin', 'username contains an invisible formatting character (U+200D)'],
    ['left-to-right mark', 'admin\u200E', 'username contains an invisible formatting character (U+200E)'],
    ['bidi embedding', '\u202Aadmin', 'username contains an invisible formatting character (U+202A)'],
    ['bidi override (RLO)', '\u202Eadmin', 'username contains an invisible formatting character (U+202E)'],
    ['bidi isolate', '\u2066admin\u2069', 'username contains an invisible formatting character (U+2066)'],
    ['pop directional isolate', 'admin\u2069', 'username contains an invisible formatting character (U+2069)'],
    ['word joiner', 'ad\u2060min', 'username contains an invisible formatting character (U+2060)'],
    ['byte-order mark', '\uFEFFadmin', 'username contains an invisible formatting character (U+FEFF)'],
    ['soft hyphen', 'ad\u00ADmin', 'username contains an invisible formatting character (U+00AD)'],
    ['lone high surrogate', 'admin\uD800', 'username contains an unpaired surrogate (U+D800)'],
    ['lone low surrogate', '\uDC00admin', 'username contains an unpaired surrogate (U+DC00)'],
    ['private use', 'admin\uE000', 'username contains a private-use character (U+E000)'],
    ['supplementary private use', 'admin\u{F0000}', 'username contains a private-use character (U+F0000)'],
    ['unassigned', 'admin\u0378', 'username contains an unassigned code point (U+0378)'],
    ['noncharacter', 'admin\uFFFF', 'username contains an unassigned code point (U+FFFF)'],
    ['line separator', 'ad\u2028min', 'username contains a line separator (U+2028)'],
    ['paragraph separator', 'ad\u2029min', 'username contains a paragraph separator (U+2029)'],
    ['leading space', ' admin', 'username must not begin or end with a space'],
    ['trailing space', 'admin ', 'username must not begin or end with a space'],
    ['trailing no-break space (maps to U+0020)', 'admin\u00a0', 'username must not begin or end with a space'],
    ['leading ideographic space (maps to U+0020)', '\u3000admin', 'username must not begin or end with a space'],
    ['only spaces', '   ', 'username must not begin or end with a space'],
    ['257 code points', 'a'.repeat(257), 'username must be at most 256 characters long'],
    ['257 astral code points', '😀'.repeat(257), 'username must be at most 256 characters long'],
    ['a ligature that expands past 256', `${'a'.repeat(255)}\ufb03`, 'username must be at most 256 characters long'],
  ];
  it.each(cases)('%s: %j → %s', (_label, raw, reason) => {
    expect(canonicalUsername(raw)).toEqual({ ok: false, reason });
  });

  it('the first offending code point is named', () => {
    expect(canonicalUsername('a\u200Bb\u0000')).toEqual({
      ok: false,
      reason: 'username contains an invisible formatting character (U+200B)',
    });
  });
});

let t: TestService | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(): Promise<Core> {
  t = await makeTestService({}, { admin: false });
  return t.svc.core;
}

const record = (key: string): UserRecord => ({ key_id: key, password_hash: `hash-${key}`, created_at: 1, updated_at: 2 });

async function userKeys(core: Core): Promise<string[]> {
  return (await core.store.scan('user:')).map(([k]) => k);
}

describe('findUser — exact spelling first, then the canonical one', () => {
  it('finds a canonical record under any spelling, and names the stored spelling', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp('admin', record('k1'))]);
    expect(await findUser(core.users, 'admin', 'admin')).toEqual({ name: 'admin', record: record('k1') });
    expect(await findUser(core.users, 'ADMIN', 'admin')).toEqual({ name: 'admin', record: record('k1') });
    expect(await findUser(core.users, 'nobody', 'nobody')).toBeUndefined();
  });

  it('a legacy record under the exact spelling wins over the canonical one', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp('admin', record('k1')), core.users.putOp('Admin', record('k2'))]);
    expect(await findUser(core.users, 'Admin', 'admin')).toEqual({ name: 'Admin', record: record('k2') });
    expect(await findUser(core.users, 'ADMIN', 'admin')).toEqual({ name: 'admin', record: record('k1') });
  });
});

describe('migrateUsernames — legacy user records move to their canonical name', () => {
  it('re-keys a non-canonical name in place: same record, old key gone', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp('Admin', record('k1')), core.users.putOp('ｂｏｂ', record('k2'))]);
    const result = await migrateUsernames(core);
    expect(result).toEqual({
      migrated: [
        ['Admin', 'admin'],
        ['ｂｏｂ', 'bob'],
      ],
      collisions: [],
      invalid: [],
    });
    expect(await userKeys(core)).toEqual(['user:admin', 'user:bob']);
    expect(await core.users.get('admin')).toEqual(record('k1'));
    expect(await core.users.get('bob')).toEqual(record('k2'));
  });

  it('is idempotent: a second run changes nothing', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp('Admin', record('k1'))]);
    await migrateUsernames(core);
    const before = await core.store.scan('');
    expect(await migrateUsernames(core)).toEqual({ migrated: [], collisions: [], invalid: [] });
    expect(await core.store.scan('')).toEqual(before);
  });

  it('a collision leaves both records where they are', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp('admin', record('k1')), core.users.putOp('Admin', record('k2'))]);
    expect(await migrateUsernames(core)).toEqual({ migrated: [], collisions: ['Admin'], invalid: [] });
    expect(await core.users.get('admin')).toEqual(record('k1'));
    expect(await core.users.get('Admin')).toEqual(record('k2'));
  });

  it('two legacy spellings of one name: the first (in key order) moves, the other is a collision', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp('Admin', record('k1')), core.users.putOp('ADMIN', record('k2'))]);
    expect(await migrateUsernames(core)).toEqual({ migrated: [['ADMIN', 'admin']], collisions: ['Admin'], invalid: [] });
    expect(await userKeys(core)).toEqual(['user:Admin', 'user:admin']);
    expect(await core.users.get('admin')).toEqual(record('k2'));
  });

  it('an invalid legacy name is left where it is', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp(' admin', record('k1')), core.users.putOp('ad\u200Bmin', record('k2'))]);
    expect(await migrateUsernames(core)).toEqual({ migrated: [], collisions: [], invalid: [' admin', 'ad\u200Bmin'] });
    expect(await userKeys(core)).toEqual(['user: admin', 'user:ad\u200Bmin']);
  });

  it('a collision and an invalid name are warnings naming the record, control characters escaped', async () => {
    const core = await setup();
    await core.store.batch([
      core.users.putOp('admin', record('k1')),
      core.users.putOp('Admin', record('k2')),
      core.users.putOp('ad\u0007min', record('k3')),
    ]);
    const lines: string[] = [];
    const log = core.log;
    (core as { log: Core['log'] }).log = createLogger('info', { write: (line: string) => void lines.push(line) });
    try {
      await migrateUsernames(core);
    } finally {
      (core as { log: Core['log'] }).log = log;
    }
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.level === 'warn');
    expect(warnings.map((w) => [w.user, w.canonical ?? w.reason])).toEqual([
      ['Admin', 'admin'],
      ['ad\\x07min', 'username contains a control character (U+0007)'],
    ]);
  });

  it('runs under the account lock', async () => {
    const core = await setup();
    await core.store.batch([core.users.putOp('Admin', record('k1'))]);
    let inside = 0;
    const lock = core.accountLock;
    (core as { accountLock: Core['accountLock'] }).accountLock = {
      run: (fn) =>
        lock.run(async () => {
          inside++;
          return fn();
        }),
    };
    try {
      await migrateUsernames(core);
    } finally {
      (core as { accountLock: Core['accountLock'] }).accountLock = lock;
    }
    expect(inside).toBe(1);
  });
});
