#!/usr/bin/env node
// Builds the login page with vite into dist/frontend (or `--out-dir <dir>`: the test setup builds
// into its private copy), then prints the gzipped size of its JS + CSS and fails above the
// 30 KB budget. Used by `npm run build` and test/global-setup.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const BUDGET = 30 * 1024;
const here = fileURLToPath(new URL('.', import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
const outDir = resolve(values['out-dir'] ?? join(here, '..', 'dist', 'frontend'));

await build({
  configFile: join(here, 'vite.config.ts'),
  logLevel: 'warn',
  build: { outDir },
});

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const files = readdirSync(join(outDir, 'assets'))
  .filter((name) => name.endsWith('.js') || name.endsWith('.css'))
  .sort()
  .map((name) => {
    const body = readFileSync(join(outDir, 'assets', name));
    return { name, raw: body.length, gz: gzipSync(body, { level: 9 }).length };
  });
const total = files.reduce((sum, f) => sum + f.gz, 0);
for (const f of files) console.log(`  assets/${f.name}  ${kb(f.raw)} → ${kb(f.gz)} gzipped`);
console.log(`login page bundle: JS + CSS ${kb(total)} gzipped (${total} bytes; budget ${kb(BUDGET)}) in ${outDir}`);
if (total > BUDGET) {
  console.error(`login page bundle is over its ${kb(BUDGET)} budget`);
  process.exit(1);
}
