import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFlagsOf } from '../../scripts/node-flags.mjs';
import { cliPath } from '../e2e/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = join(ROOT, 'src', 'cli.ts');

let temp: string | undefined;
afterEach(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
  temp = undefined;
});

/**
 * Issue 11 (memory): the Node flags the service runs with are written once, in src/cli.ts's first
 * line; everything else that starts the service must pass the same ones.
 */
describe('the service’s Node flags (scripts/node-flags.mjs)', () => {
  const flags = nodeFlagsOf(SOURCE);

  it('src/cli.ts names them, and the compiled CLI keeps the line', () => {
    expect(flags).toContain('--max-semi-space-size=4');
    expect(nodeFlagsOf(cliPath())).toEqual(flags);
  });

  it('npm start and the Docker image pass the same flags', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(['node', ...flags, 'dist/cli.js'].join(' '));
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['node', ...flags, 'dist/cli.js']);
  });

  it('node accepts every flag (a typo would stop the service at once)', () => {
    expect(execFileSync(process.execPath, [...flags, '-p', '1 + 1'], { encoding: 'utf8' }).trim()).toBe('2');
  });

  it('executed directly, the first line runs the CLI through env -S with the flags', () => {
    // An executable copy beside the compiled modules it imports.
    const exe = join(dirname(cliPath()), `cli-exec-${process.pid}.js`);
    copyFileSync(cliPath(), exe);
    chmodSync(exe, 0o755);
    try {
      const out = execFileSync(exe, ['--version'], {
        encoding: 'utf8',
        env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      });
      expect(out.trim()).toMatch(/^mero-auth \d+\.\d+\.\d+/);
    } finally {
      rmSync(exe, { force: true });
    }
  });

  it('any other first line is refused with the line it found', () => {
    temp = mkdtempSync(join(tmpdir(), 'mero-node-flags-'));
    const file = join(temp, 'cli.js');
    writeFileSync(file, '#!/usr/bin/env node\nconsole.log(1);\n');
    expect(() => nodeFlagsOf(file)).toThrow(
      `${file}: expected a "#!/usr/bin/env -S node --flag…" first line, got "#!/usr/bin/env node"`,
    );
  });
});
