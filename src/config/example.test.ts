import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from './load.js';
import { LEAF_KEYS } from './schema.js';

const EXAMPLE = fileURLToPath(new URL('../../config.example.toml', import.meta.url));

function lookup(obj: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), obj);
}

describe('config.example.toml', () => {
  it('loads without warnings', () => {
    const { warnings } = loadConfig({ file: EXAMPLE, env: {} });
    expect(warnings).toEqual([]);
  });

  it('holds the standalone defaults, except listen_addr = 0.0.0.0:3001', () => {
    const { config } = loadConfig({ file: EXAMPLE, env: {} });
    expect(config).toEqual({ ...defaultConfig('standalone'), listen_addr: '0.0.0.0:3001' });
  });

  it('documents every key, each with a comment line above it', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const raw = parse(text);
    const lines = text.split('\n');
    for (const key of LEAF_KEYS.keys()) {
      expect(lookup(raw, key), key).not.toBeUndefined();
      const name = key.split('.').at(-1) ?? key;
      const at = lines.findIndex((l, i) => l.startsWith(`${name} = `) && isInSection(lines, i, key));
      expect(at, key).toBeGreaterThan(0);
      expect(lines[at - 1]?.startsWith('#'), key).toBe(true);
    }
  });
});

/** The `[table]` header above line i is the key's section. */
function isInSection(lines: string[], i: number, key: string): boolean {
  const section = key.split('.').slice(0, -1).join('.');
  for (let j = i; j >= 0; j--) {
    const m = /^\[(.+)\]$/.exec(lines[j] ?? '');
    if (m) return m[1] === section;
  }
  return section === '';
}
