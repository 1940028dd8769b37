import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { launchOf } from '../../scripts/node-flags.mjs';
import { cliPath } from '../e2e/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = join(ROOT, 'src', 'cli.ts');

let temp: string | undefined;
afterEach(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
  temp = undefined;
});

/**
 * Issue 11 (memory): the environment and Node flags the service runs with are written once, in
 * src/cli.ts's first line; everything else that starts the service must pass the same ones.
 */
describe('the service’s launch environment and Node flags (scripts/node-flags.mjs)', () => {
  const launch = launchOf(SOURCE);
  const assignments = Object.entries(launch.env).map(([name, value]) => `${name}=${value}`);

  it('src/cli.ts names them, and the compiled CLI keeps the line', () => {
    expect(launch.flags).toContain('--max-semi-space-size=4');
    expect(launch.env).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(launchOf(cliPath())).toEqual(launch);
  });

  it('npm start and the Docker image pass the same environment and flags', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe([...assignments, 'node', ...launch.flags, 'dist/cli.js'].join(' '));
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['node', ...launch.flags, 'dist/cli.js']);
    for (const assignment of assignments) expect(dockerfile.split('\n')).toContain(`ENV ${assignment}`);
  });

  it('node accepts every flag (a typo would stop the service at once)', () => {
    expect(execFileSync(process.execPath, [...launch.flags, '-p', '1 + 1'], { encoding: 'utf8' }).trim()).toBe('2');
  });

  it('executed directly, the first line runs the CLI through env -S', () => {
    // An executable copy beside the compiled modules it imports.
    const exe = join(dirname(cliPath()), `cli-exec-${process.pid}.js`);
    copyFileSync(cliPath(), exe);
    chmodSync(exe, 0o755);
    try {
      const out = execFileSync(exe, ['--version'], { encoding: 'utf8', env: { PATH: nodePath() } });
      expect(out.trim()).toMatch(/^mero-auth \d+\.\d+\.\d+/);
    } finally {
      rmSync(exe, { force: true });
    }
  });

  it('the process that first line starts has the environment and the flags', () => {
    temp = mkdtempSync(join(tmpdir(), 'mero-node-flags-'));
    const exe = join(temp, 'probe.mjs');
    const firstLine = readFileSync(SOURCE, 'utf8').split('\n', 1)[0];
    writeFileSync(
      exe,
      `${firstLine}\nconsole.log(JSON.stringify({ arenas: process.env.MALLOC_ARENA_MAX, execArgv: process.execArgv }));\n`,
    );
    chmodSync(exe, 0o755);
    // Set otherwise in the caller's environment: the service's own setting wins.
    const out = execFileSync(exe, { encoding: 'utf8', env: { PATH: nodePath(), MALLOC_ARENA_MAX: '8' } });
    expect(JSON.parse(out)).toEqual({ arenas: '2', execArgv: launch.flags });
  });

  it('any other first line is refused with the line it found', () => {
    temp = mkdtempSync(join(tmpdir(), 'mero-node-flags-'));
    const file = join(temp, 'cli.js');
    writeFileSync(file, '#!/usr/bin/env node\nconsole.log(1);\n');
    expect(() => launchOf(file)).toThrow(
      `${file}: expected a "#!/usr/bin/env -S [NAME=value…] node [--flag…]" first line, got "#!/usr/bin/env node"`,
    );
    writeFileSync(file, '#!/usr/bin/env -S node MALLOC_ARENA_MAX=2\n');
    expect(() => launchOf(file)).toThrow('first line, got "#!/usr/bin/env -S node MALLOC_ARENA_MAX=2"');
  });

  it('reads assignments and flags apart', () => {
    temp = mkdtempSync(join(tmpdir(), 'mero-node-flags-'));
    const file = join(temp, 'cli.js');
    writeFileSync(file, '#!/usr/bin/env -S A_B=1 C=x node --one --two=3\n');
    expect(launchOf(file)).toEqual({ env: { A_B: '1', C: 'x' }, flags: ['--one', '--two=3'] });
    writeFileSync(file, '#!/usr/bin/env -S node\n');
    expect(launchOf(file)).toEqual({ env: {}, flags: [] });
  });
});

/** A PATH that finds this node first (env -S looks `node` up on it). */
function nodePath(): string {
  return `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
}
