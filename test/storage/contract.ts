import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchOp, Store } from '../../src/storage/store.js';

export interface StoreHandle {
  store: Store;
  cleanup(): Promise<void>;
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

async function collect(entries: AsyncIterable<[string, Uint8Array]>): Promise<Array<[string, Uint8Array]>> {
  const out: Array<[string, Uint8Array]> = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

/** `it:00000` … : fixed width, so string order is byte order. */
const numbered = (prefix: string, i: number): string => `${prefix}${String(i).padStart(5, '0')}`;

/** The behaviour every Store backend must share; run it once per backend. */
export function runStoreContract(name: string, make: () => Promise<StoreHandle>): void {
  describe(`Store contract: ${name}`, () => {
    let handle: StoreHandle;
    let store: Store;

    beforeEach(async () => {
      handle = await make();
      store = handle.store;
    });

    afterEach(async () => {
      await store.close();
      await handle.cleanup();
    });

    it('reports absent keys as undefined / false', async () => {
      expect(await store.get('missing')).toBeUndefined();
      expect(await store.has('missing')).toBe(false);
    });

    it('round-trips every byte value', async () => {
      const all = new Uint8Array(256).map((_, i) => i);
      await store.put('bin', all);
      expect(await store.get('bin')).toEqual(all);
      expect(await store.has('bin')).toBe(true);
    });

    it('stores an empty value distinctly from an absent one', async () => {
      await store.put('empty', new Uint8Array(0));
      expect(await store.has('empty')).toBe(true);
      expect(await store.get('empty')).toEqual(new Uint8Array(0));
    });

    it('overwrites a value', async () => {
      await store.put('k', text('first'));
      await store.put('k', text('second, longer'));
      expect(await store.get('k')).toEqual(text('second, longer'));
    });

    it('deletes a key, and deleting an absent key is a no-op', async () => {
      await store.put('k', bytes(1));
      await store.del('k');
      expect(await store.has('k')).toBe(false);
      expect(await store.get('k')).toBeUndefined();
      await expect(store.del('never-written')).resolves.toBeUndefined();
    });

    it('applies puts and dels of one batch together', async () => {
      await store.put('old:1', bytes(1));
      await store.put('old:2', bytes(2));
      await store.batch([
        { type: 'put', key: 'new:1', value: bytes(10) },
        { type: 'del', key: 'old:1' },
        { type: 'put', key: 'new:2', value: bytes(20) },
        { type: 'put', key: 'old:2', value: bytes(22) },
      ]);
      expect(await store.has('old:1')).toBe(false);
      expect(await store.get('old:2')).toEqual(bytes(22));
      expect(await store.get('new:1')).toEqual(bytes(10));
      expect(await store.get('new:2')).toEqual(bytes(20));
    });

    it('applies a batch in order: a later op on the same key wins', async () => {
      await store.batch([
        { type: 'put', key: 'x', value: bytes(1) },
        { type: 'del', key: 'x' },
        { type: 'put', key: 'y', value: bytes(1) },
        { type: 'put', key: 'y', value: bytes(2) },
      ]);
      expect(await store.has('x')).toBe(false);
      expect(await store.get('y')).toEqual(bytes(2));
    });

    it('rejects a batch with a malformed op and applies none of it', async () => {
      await store.put('keep', bytes(7));
      const ops = [
        { type: 'put', key: 'a', value: bytes(1) },
        { type: 'del', key: 'keep' },
        { type: 'put', key: 'b', value: undefined },
      ] as unknown as BatchOp[];
      await expect(store.batch(ops)).rejects.toThrow();
      expect(await store.has('a')).toBe(false);
      expect(await store.get('keep')).toEqual(bytes(7));
    });

    it('accepts an empty batch', async () => {
      await expect(store.batch([])).resolves.toBeUndefined();
    });

    it('scans in UTF-8 byte order, including non-ASCII keys', async () => {
      // U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80) bytewise, after it in UTF-16
      // (FF5E vs D83D), so a backend sorting JS strings naively fails this.
      const keys = [
        'p:b',
        'p:\u{1F600}',
        'p:\uFF5E',
        'p:\u00e9',
        'p:a',
        'p:Z',
        'p:',
        'p:a\u0000',
        'p:ab',
        'p:\u007f',
        'p:\u0080',
      ];
      for (const [i, k] of keys.entries()) await store.put(k, bytes(i));
      const scanned = await store.scan('p:');
      const expected = [...keys].sort(utf8Compare);
      expect(scanned.map(([k]) => k)).toEqual(expected);
      for (const [k, v] of scanned) expect(v).toEqual(bytes(keys.indexOf(k)));
    });

    it('orders supplementary characters after BMP characters above U+D800 (bytewise, not UTF-16)', async () => {
      await store.put('s:\u{10000}', bytes(1)); // F0 90 80 80; UTF-16 D800 DC00
      await store.put('s:\uE000', bytes(2)); // EE 80 80; UTF-16 E000
      expect((await store.scan('s:')).map(([k]) => k)).toEqual(['s:\uE000', 's:\u{10000}']);
    });

    it('scans only keys under the prefix', async () => {
      await store.batch([
        { type: 'put', key: 'idx:a:1', value: bytes(1) },
        { type: 'put', key: 'idx:a:2', value: bytes(2) },
        { type: 'put', key: 'idx:ab:1', value: bytes(3) },
        { type: 'put', key: 'idx:a', value: bytes(4) },
        { type: 'put', key: 'idx:`', value: bytes(5) },
        { type: 'put', key: 'idx;', value: bytes(6) },
        { type: 'put', key: 'idw', value: bytes(7) },
        { type: 'put', key: 'idx:b', value: bytes(8) },
      ]);
      expect((await store.scan('idx:a:')).map(([k]) => k)).toEqual(['idx:a:1', 'idx:a:2']);
      expect((await store.scan('idx:ab:')).map(([k]) => k)).toEqual(['idx:ab:1']);
      expect((await store.scan('idx:a')).map(([k]) => k)).toEqual(['idx:a', 'idx:a:1', 'idx:a:2', 'idx:ab:1']);
      expect(await store.scan('idx:c')).toEqual([]);
      expect(await store.scan('nothing')).toEqual([]);
    });

    it('scans prefixes whose byte successor is not valid UTF-8', async () => {
      // The upper bound of "\u007f" is byte 0x80 and of "\u00bf" is C2 C0: neither decodes.
      await store.put('q\u007f', bytes(1));
      await store.put('q\u007fz', bytes(2));
      await store.put('q\u0080', bytes(3));
      await store.put('r\u00bf', bytes(4));
      await store.put('r\u00bf\u{10FFFF}', bytes(5));
      await store.put('r\u00c0', bytes(6));
      await store.put('m:\u{10FFFF}', bytes(7));
      await store.put('m:\u{10FFFF}\u{10FFFF}', bytes(8));
      await store.put('m;', bytes(9));
      expect((await store.scan('q\u007f')).map(([k]) => k)).toEqual(['q\u007f', 'q\u007fz']);
      expect((await store.scan('r\u00bf')).map(([k]) => k)).toEqual(['r\u00bf', 'r\u00bf\u{10FFFF}']);
      expect((await store.scan('m:\u{10FFFF}')).map(([k]) => k)).toEqual(['m:\u{10FFFF}', 'm:\u{10FFFF}\u{10FFFF}']);
    });

    it('scans everything with the empty prefix', async () => {
      await store.put('b', bytes(2));
      await store.put('a', bytes(1));
      await store.put('\u{1F600}', bytes(3));
      expect(await store.scan('')).toEqual([
        ['a', bytes(1)],
        ['b', bytes(2)],
        ['\u{1F600}', bytes(3)],
      ]);
    });

    it('iterate yields what scan returns: same order, same prefix bounds, same values', async () => {
      const keys = [
        'p:b',
        'p:\u{1F600}',
        'p:\uFF5E',
        'p:\u00e9',
        'p:a',
        'p:',
        'p:a\u0000',
        'p:\u007f',
        'p:\u0080',
        'p;',
        'o',
        'q\u007f',
        'q\u007fz',
        'q\u0080',
        'm:\u{10FFFF}',
        'm:\u{10FFFF}\u{10FFFF}',
        'm;',
        's:\u{10000}',
        's:\uE000',
      ];
      await store.batch(keys.map((key, i) => ({ type: 'put', key, value: bytes(i) })));
      for (const prefix of ['p:', 'p:a', 'p', 'q\u007f', 'm:\u{10FFFF}', 's:', 'nothing', '']) {
        const iterated = await collect(store.iterate(prefix));
        expect(iterated, prefix).toEqual(await store.scan(prefix));
        expect(iterated.map(([k]) => k)).toEqual(keys.filter((k) => k.startsWith(prefix)).sort(utf8Compare));
      }
      for (const [, v] of await collect(store.iterate('p:'))) expect(v.constructor).toBe(Uint8Array);
    });

    it('iterate yields nothing for an empty prefix range and everything for the empty prefix', async () => {
      expect(await collect(store.iterate(''))).toEqual([]);
      expect(await collect(store.iterate('none:'))).toEqual([]);
      await store.put('b', bytes(2));
      await store.put('a', bytes(1));
      await store.put('\u{1F600}', bytes(3));
      expect(await collect(store.iterate(''))).toEqual([
        ['a', bytes(1)],
        ['b', bytes(2)],
        ['\u{1F600}', bytes(3)],
      ]);
    });

    it('iterates a range larger than one page (2,500 entries) once each, in order', async () => {
      const ops: BatchOp[] = [];
      for (let i = 0; i < 2_500; i++) ops.push({ type: 'put', key: numbered('it:', i), value: bytes(i % 256) });
      ops.push({ type: 'put', key: 'is', value: bytes(1) }, { type: 'put', key: 'iu', value: bytes(1) });
      await store.batch(ops);
      let n = 0;
      for await (const [k, v] of store.iterate('it:')) {
        expect(k).toBe(numbered('it:', n));
        expect(v).toEqual(bytes(n % 256));
        n++;
      }
      expect(n).toBe(2_500);
    });

    it('iterates while batches are written: every entry present throughout is yielded once, in order', async () => {
      // The sweep's pattern: delete what was yielded, in batches, while the iteration goes on;
      // other writers put and delete elsewhere, and ahead of it, meanwhile.
      const N = 2_200;
      await store.batch(Array.from({ length: N }, (_, i): BatchOp => ({ type: 'put', key: numbered('w:', i), value: bytes(1) })));
      const seen: string[] = [];
      let pending: string[] = [];
      for await (const [k] of store.iterate('w:')) {
        seen.push(k);
        pending.push(k);
        if (pending.length === 300) {
          const index = Number(k.slice('w:'.length));
          await store.batch([
            ...pending.map((key): BatchOp => ({ type: 'del', key })),
            { type: 'put', key: `x:${index}`, value: bytes(2) }, // outside the prefix
            { type: 'put', key: `${numbered('w:', index - 1)}a`, value: bytes(3) }, // behind the iteration
            { type: 'del', key: numbered('w:', N + 1) }, // absent
          ]);
          pending = [];
        }
      }
      const original = seen.filter((k) => /^w:\d{5}$/.test(k));
      expect(original).toEqual(Array.from({ length: N }, (_, i) => numbered('w:', i)));
      expect([...seen].sort(utf8Compare)).toEqual(seen); // strictly ordered, no repeats
      expect(new Set(seen).size).toBe(seen.length);
      expect((await store.scan('w:')).map(([k]) => k)).toEqual(
        [...pending, ...Array.from({ length: Math.floor(N / 300) }, (_, i) => `${numbered('w:', 300 * (i + 1) - 2)}a`)].sort(
          utf8Compare,
        ),
      );
    });

    it('iterate stopped early leaves the store usable', async () => {
      await store.batch([1, 2, 3].map((i): BatchOp => ({ type: 'put', key: `e:${i}`, value: bytes(i) })));
      for await (const [k] of store.iterate('e:')) {
        expect(k).toBe('e:1');
        break;
      }
      await store.put('e:4', bytes(4));
      expect((await collect(store.iterate('e:'))).map(([k]) => k)).toEqual(['e:1', 'e:2', 'e:3', 'e:4']);
    });

    it('iterate returns copies', async () => {
      await store.put('k', bytes(1, 2, 3));
      for await (const [, v] of store.iterate('k')) v.fill(0);
      expect(await store.get('k')).toEqual(bytes(1, 2, 3));
    });

    it('putIfAbsent writes the key and alsoOps only when the key is absent', async () => {
      await store.put('stale', bytes(0));
      const also: BatchOp[] = [
        { type: 'put', key: 'also:1', value: bytes(1) },
        { type: 'del', key: 'stale' },
      ];
      expect(await store.putIfAbsent('marker', bytes(42), also)).toBe(true);
      expect(await store.get('marker')).toEqual(bytes(42));
      expect(await store.get('also:1')).toEqual(bytes(1));
      expect(await store.has('stale')).toBe(false);

      await store.put('stale', bytes(0));
      const lost: BatchOp[] = [
        { type: 'put', key: 'also:2', value: bytes(2) },
        { type: 'del', key: 'stale' },
      ];
      expect(await store.putIfAbsent('marker', bytes(99), lost)).toBe(false);
      expect(await store.get('marker')).toEqual(bytes(42));
      expect(await store.has('also:2')).toBe(false);
      expect(await store.has('stale')).toBe(true);
    });

    it('putIfAbsent treats an empty value as present', async () => {
      await store.put('k', new Uint8Array(0));
      expect(await store.putIfAbsent('k', bytes(1))).toBe(false);
      expect(await store.get('k')).toEqual(new Uint8Array(0));
    });

    it('putIfAbsent succeeds again after the key is deleted', async () => {
      expect(await store.putIfAbsent('k', bytes(1))).toBe(true);
      await store.del('k');
      expect(await store.putIfAbsent('k', bytes(2))).toBe(true);
      expect(await store.get('k')).toEqual(bytes(2));
    });

    it('lets exactly one of 50 concurrent putIfAbsent callers win, with only its alsoOps', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.putIfAbsent('race', bytes(i), [{ type: 'put', key: `race:also:${i}`, value: bytes(i) }]),
        ),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0] ?? -1;
      expect(await store.get('race')).toEqual(bytes(winner));
      expect((await store.scan('race:also:')).map(([k]) => k)).toEqual([`race:also:${winner}`]);
    });

    it('a failed putIfAbsent batch does not wedge later callers', async () => {
      const bad = [{ type: 'put', key: 'x', value: undefined }] as unknown as BatchOp[];
      await expect(store.putIfAbsent('k', bytes(1), bad)).rejects.toThrow();
      expect(await store.has('k')).toBe(false);
      expect(await store.putIfAbsent('k', bytes(2))).toBe(true);
    });

    it('returns copies: mutating a returned value does not change the store', async () => {
      await store.put('k', bytes(1, 2, 3));
      const got = await store.get('k');
      got?.fill(0);
      const [[, scanned] = ['', bytes()]] = await store.scan('k');
      scanned.fill(9);
      expect(await store.get('k')).toEqual(bytes(1, 2, 3));
    });

    it('copies inputs: mutating a written value afterwards does not change the store', async () => {
      const plain = bytes(1, 2, 3);
      await store.put('plain', plain);
      plain.fill(0);
      // Buffer#slice is a view, so a backend copying with .slice() would share this memory.
      const buf = Buffer.from([4, 5, 6]);
      await store.put('buffer', buf);
      buf.fill(0);
      const batched = Buffer.from([7, 8]);
      await store.batch([{ type: 'put', key: 'batched', value: batched }]);
      batched.fill(0);
      expect(await store.get('plain')).toEqual(bytes(1, 2, 3));
      expect(await store.get('buffer')).toEqual(bytes(4, 5, 6));
      expect(await store.get('batched')).toEqual(bytes(7, 8));
    });

    it('returns plain Uint8Arrays', async () => {
      await store.put('k', Buffer.from([1]));
      const got = await store.get('k');
      expect(got?.constructor).toBe(Uint8Array);
      const [[, scanned] = ['', Buffer.from([])]] = await store.scan('k');
      expect(scanned.constructor).toBe(Uint8Array);
    });

    it('keeps keys with separators and non-ASCII characters exact', async () => {
      const keys = ['mock_http://x_1:2', 'user:Ünïcødé', 'user: padded ', 'user:UPPER', 'user:upper'];
      for (const [i, k] of keys.entries()) await store.put(k, bytes(i));
      for (const [i, k] of keys.entries()) expect(await store.get(k)).toEqual(bytes(i));
      expect((await store.scan('user:')).length).toBe(4);
    });

    it('rejects every operation after close, and close is idempotent', async () => {
      await store.put('k', bytes(1));
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
      await expect(store.get('k')).rejects.toThrow();
      await expect(store.has('k')).rejects.toThrow();
      await expect(store.put('k', bytes(2))).rejects.toThrow();
      await expect(store.del('k')).rejects.toThrow();
      await expect(store.batch([{ type: 'del', key: 'k' }])).rejects.toThrow();
      await expect(store.putIfAbsent('new', bytes(1))).rejects.toThrow();
      await expect(store.scan('')).rejects.toThrow();
      await expect(store.iterate('')[Symbol.asyncIterator]().next()).rejects.toThrow();
    });
  });
}
