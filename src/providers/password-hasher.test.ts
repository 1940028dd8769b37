import { describe, expect, it, vi } from 'vitest';
import { PasswordHasher } from './password-hasher.js';

// The cheapest OWASP pair; used wherever the parameters are not the point.
const FAST = { memoryKib: 7168, iterations: 5, parallelism: 1 };

/** Unpadded base64 of 16 bytes is 22 characters, of 32 bytes 43. */
const PHC_FAST = /^\$argon2id\$v=19\$m=7168,t=5,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

// The argon2 reference implementation's own test vector (argon2id, v=19, m=2^16, t=2, p=1).
const REFERENCE_VECTOR = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';

describe('PasswordHasher.hash', () => {
  it('writes an argon2id PHC string with m,t,p in that order, 16-byte salt, 32-byte hash', async () => {
    const h = new PasswordHasher(FAST);
    const phc = await h.hash('correct horse');
    const m = PHC_FAST.exec(phc);
    expect(m).not.toBeNull();
    expect(Buffer.from(m?.[1] ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(m?.[2] ?? '', 'base64')).toHaveLength(32);
  });

  it('pins the configured parameters', async () => {
    const h = new PasswordHasher({ memoryKib: 19456, iterations: 2, parallelism: 2 });
    expect(await h.hash('pw')).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=2\$[^$]{22}\$[^$]{43}$/);
  });

  it('salts every hash afresh', async () => {
    const h = new PasswordHasher(FAST);
    const [a, b] = await Promise.all([h.hash('same'), h.hash('same')]);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
  });
});

describe('PasswordHasher.verify', () => {
  const h = new PasswordHasher(FAST);

  it('accepts the right password and rejects a wrong one', async () => {
    const phc = await h.hash('correct horse');
    expect(await h.verify(phc, 'correct horse')).toBe(true);
    expect(await h.verify(phc, 'correct horsE')).toBe(false);
    expect(await h.verify(phc, '')).toBe(false);
  });

  it('handles empty and non-ASCII passwords as UTF-8', async () => {
    const empty = await h.hash('');
    expect(await h.verify(empty, '')).toBe(true);
    expect(await h.verify(empty, ' ')).toBe(false);
    const uni = await h.hash('pässwörd 😀');
    expect(await h.verify(uni, 'pässwörd 😀')).toBe(true);
    // Same letters, other normalisation (NFD): passwords are bytes, never normalised.
    expect(await h.verify(uni, 'pa\u0308sswo\u0308rd 😀')).toBe(false);
  });

  it('verifies hashes made with other parameters and by other implementations', async () => {
    expect(await new PasswordHasher({ memoryKib: 19456, iterations: 2, parallelism: 1 }).verify(await h.hash('pw'), 'pw')).toBe(
      true,
    );
    expect(await h.verify(REFERENCE_VECTOR, 'password')).toBe(true);
    expect(await h.verify(REFERENCE_VECTOR, 'passwore')).toBe(false);
  });

  it('accepts the m,p,t parameter order the argon2 package itself writes', async () => {
    const phc = await h.hash('pw');
    const reordered = phc.replace('m=7168,t=5,p=1', 'm=7168,p=1,t=5');
    expect(await h.verify(reordered, 'pw')).toBe(true);
    expect(h.needsRehash(reordered)).toBe(false);
  });

  it('answers false, never throws, for a malformed hash', async () => {
    const good = await h.hash('pw');
    const [, , , params, salt, hash] = good.split('$');
    const bad = [
      '',
      'garbage',
      '$2b$12$abcdefghijklmnopqrstuuJ0y3Ckwx5cc9SGvm4LbMZIbc4xN1cVu', // bcrypt
      `$argon2x$v=19$${params}$${salt}$${hash}`,
      `$argon2id$v=19$${params}$${salt}$`,
      `$argon2id$v=19$${params}$${salt}`,
      `$argon2id$v=19$${params}$${salt}$${hash}==`,
      `$argon2id$v=19$m=7168,t=5$${salt}$${hash}`,
      `$argon2id$v=19$m=7168,t=5,p=1,p=1$${salt}$${hash}`,
      `$argon2id$v=19$m=0,t=5,p=1$${salt}$${hash}`,
      `$argon2id$v=19$m=99999999999,t=5,p=1$${salt}$${hash}`,
      `$argon2id$v=19$m=7168,t=5,p=1$$${hash}`,
      `$argon2id$v=19$m=7168,t=5,p=1$${salt}$${hash}$`,
      ` ${good}`,
      `${good}\n`,
    ];
    for (const phc of bad) {
      await expect(h.verify(phc, 'pw'), phc).resolves.toBe(false);
    }
  });
});

describe('PasswordHasher.verifyDummy', () => {
  it('returns false whatever the password', async () => {
    const h = new PasswordHasher(FAST);
    await expect(h.verifyDummy('pw')).resolves.toBe(false);
    await expect(h.verifyDummy('')).resolves.toBe(false);
  });

  it('creates the dummy hash once, with the configured parameters, and verifies against it', async () => {
    const h = new PasswordHasher(FAST);
    const verifySpy = vi.spyOn(h, 'verify');

    await Promise.all([h.verifyDummy('a'), h.verifyDummy('b')]);
    await h.verifyDummy('c');

    // Each call did the real verification work against one and the same dummy hash.
    expect(verifySpy).toHaveBeenCalledTimes(3);
    const dummies = new Set(verifySpy.mock.calls.map((c) => c[0]));
    expect(dummies.size).toBe(1);
    expect([...dummies][0]).toMatch(PHC_FAST);
    expect(verifySpy.mock.calls.map((c) => c[1])).toEqual(['a', 'b', 'c']);
  });
});

describe('PasswordHasher.needsRehash', () => {
  const h = new PasswordHasher({ memoryKib: 19456, iterations: 2, parallelism: 1 });
  const salt = 'c29tZXNhbHRzb21lc2FsdA';
  const out = 'CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';
  const phc = (alg: string, v: number, params: string) => `$${alg}$v=${v}$${params}$${salt}$${out}`;

  it.each([
    ['the configured parameters', phc('argon2id', 19, 'm=19456,t=2,p=1'), false],
    ['another parameter order', phc('argon2id', 19, 't=2,p=1,m=19456'), false],
    ['a different memory cost', phc('argon2id', 19, 'm=7168,t=2,p=1'), true],
    ['a different iteration count', phc('argon2id', 19, 'm=19456,t=3,p=1'), true],
    ['a different parallelism', phc('argon2id', 19, 'm=19456,t=2,p=4'), true],
    ['argon2i', phc('argon2i', 19, 'm=19456,t=2,p=1'), true],
    ['argon2d', phc('argon2d', 19, 'm=19456,t=2,p=1'), true],
    ['version 16', phc('argon2id', 16, 'm=19456,t=2,p=1'), true],
    ['a malformed string', 'not a hash', true],
  ])('%s → %s', (_name, input, expected) => {
    expect(h.needsRehash(input)).toBe(expected);
  });

  it('is false for its own fresh hashes and true for another configuration', async () => {
    const fast = new PasswordHasher(FAST);
    const fresh = await fast.hash('pw');
    expect(fast.needsRehash(fresh)).toBe(false);
    expect(h.needsRehash(fresh)).toBe(true);
    expect(new PasswordHasher({ ...FAST, parallelism: 2 }).needsRehash(fresh)).toBe(true);
  });
});

describe('PasswordHasher options', () => {
  it('rejects non-positive or fractional parameters', () => {
    expect(() => new PasswordHasher({ ...FAST, memoryKib: 0 })).toThrow('argon2 memoryKib must be an integer >= 1, got 0');
    expect(() => new PasswordHasher({ ...FAST, iterations: 1.5 })).toThrow('argon2 iterations must be an integer >= 1, got 1.5');
  });
});

describe('PasswordHasher.matchDummyCost (timing after a settings change)', () => {
  const light = { memoryKib: 7168, iterations: 5, parallelism: 1 };
  it('follows the costliest stored hash, and back down when it is gone', async () => {
    const hasher = new PasswordHasher(light);
    expect(hasher.dummyParameters).toEqual(light);
    const heavy = `$argon2id$v=19$m=47104,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$${'A'.repeat(43)}`;
    hasher.matchDummyCost([await hasher.hash('x'), heavy, 'not a phc string']);
    expect(hasher.dummyParameters).toEqual({ memoryKib: 47104, iterations: 1, parallelism: 1 });
    expect(await hasher.verifyDummy('anything')).toBe(false);
    hasher.matchDummyCost([await hasher.hash('x')]);
    expect(hasher.dummyParameters).toEqual(light);
  });

  it('ignores cheaper stored hashes: the configured cost is the floor', () => {
    const hasher = new PasswordHasher({ memoryKib: 19456, iterations: 2, parallelism: 1 });
    hasher.matchDummyCost([`$argon2id$v=19$m=7168,t=5,p=1$c29tZXNhbHRzb21lc2FsdA$${'A'.repeat(43)}`]);
    expect(hasher.dummyParameters).toEqual({ memoryKib: 19456, iterations: 2, parallelism: 1 });
  });
});
