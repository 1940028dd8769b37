import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staleReason } from '../../scripts/build-if-stale.mjs';

// A miniature checkout with explicit mtimes (seconds), so no test waits for the clock.
let root: string;
const at = (path: string, seconds: number): void => utimesSync(join(root, path), seconds, seconds);
function file(path: string, seconds: number): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), 'x');
  at(path, seconds);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mero-build-stale-'));
  file('src/cli.ts', 100);
  file('src/http/app.ts', 100);
  file('frontend/src/main.ts', 100);
  file('package.json', 100);
  for (const dir of ['src/http', 'src', 'frontend/src', 'frontend']) at(dir, 100);
  file('dist/cli.js', 200);
  file('dist/frontend/index.html', 200);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('scripts/build-if-stale.mjs (npm start builds only when dist/ is stale)', () => {
  it('a build newer than every input is current', () => {
    expect(staleReason(root)).toBeUndefined();
  });

  it('a missing output rebuilds, naming it', () => {
    rmSync(join(root, 'dist/frontend/index.html'));
    expect(staleReason(root)).toBe('dist/frontend/index.html is missing');
  });

  it.each([
    ['a nested source file', 'src/http/app.ts'],
    ['a login page file', 'frontend/src/main.ts'],
    ['package.json', 'package.json'],
    ['a directory (a file was deleted or added)', 'src/http'],
  ])('%s newer than the build rebuilds', (_what, path) => {
    at(path, 300);
    expect(staleReason(root)).toBe('a source file changed since the last build');
  });

  it('the older of the two outputs is what counts (a build interrupted after tsc)', () => {
    at('dist/frontend/index.html', 50);
    expect(staleReason(root)).toBe('a source file changed since the last build');
  });
});
