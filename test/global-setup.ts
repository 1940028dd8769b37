import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { postgresMissing, startCluster } from './helpers/pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of this run's compiled `cli.js` (see below). */
    meroAuthCli: string;
    /** Absolute path of this run's login page bundle (`<build>/dist/frontend`). */
    meroAuthFrontend: string;
    /** This run's throwaway PostgreSQL cluster (`postgres://postgres@127.0.0.1:<port>`), or '' when not installed. */
    pgBaseUrl: string;
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildsDir = join(root, 'node_modules', '.cache', 'mero-auth-e2e');
const STALE_MS = 6 * 3_600_000;

/**
 * Builds the service once per run, exactly as `npm run build` does (`tsc -p tsconfig.build.json`,
 * then the login page with `node frontend/build.mjs`), so the end-to-end and browser tests start
 * the real compiled CLI with its bundle. A failed build stops the whole run with its output.
 *
 * The login bundle lands in `<build>/dist/frontend`, where the compiled CLI looks for it
 * (static-bundle.ts: `../../dist/frontend` from `dist/http/`). The in-process tests
 * (`app.request()` on `src/`) get the same bundle through `MERO_AUTH_FRONTEND_DIR`, set here
 * before the test workers start, so every test file sees the bundle of this run, whatever state
 * the shared `dist/` is in. (The CLI children of test/e2e get only PATH from the environment.)
 *
 * The output goes to a private `<build>/dist` (with a copy of package.json beside it, which the
 * CLI reads for its version) instead of the shared `dist/`: several people run the tests in this
 * tree at once, and a build rewriting `dist/` while another run spawns `node dist/cli.js` would
 * hand that process half-written files. Packages still resolve from the repository's
 * node_modules, because the build lives inside it.
 */
export default function setup(project: TestProject): () => void {
  mkdirSync(buildsDir, { recursive: true });
  removeStaleBuilds();
  const build = mkdtempSync(join(buildsDir, 'build-'));
  const teardown = () => rmSync(build, { recursive: true, force: true });

  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const frontend = join(build, 'dist', 'frontend');
  const steps: Array<[string, string[]]> = [
    ['tsc -p tsconfig.build.json', [tsc, '-p', 'tsconfig.build.json', '--outDir', join(build, 'dist')]],
    ['node frontend/build.mjs', [join(root, 'frontend', 'build.mjs'), '--out-dir', frontend]],
  ];
  for (const [what, args] of steps) {
    const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (result.error || result.status !== 0) {
      teardown();
      const output = [result.stdout, result.stderr].filter(Boolean).join('\n').trim();
      const why = result.error ? result.error.message : `exit code ${result.status ?? result.signal}`;
      throw new Error(`global setup: '${what}' failed (${why})\n${output}`);
    }
  }
  copyFileSync(join(root, 'package.json'), join(build, 'package.json'));
  project.provide('meroAuthCli', join(build, 'dist', 'cli.js'));
  project.provide('meroAuthFrontend', frontend);
  process.env.MERO_AUTH_FRONTEND_DIR = frontend;

  // One PostgreSQL cluster for the run; each suite creates its own database on it.
  let cluster: ReturnType<typeof startCluster> | undefined;
  if (postgresMissing() === undefined) {
    try {
      cluster = startCluster();
    } catch (e) {
      teardown();
      throw e;
    }
  }
  project.provide('pgBaseUrl', cluster?.baseUrl ?? '');
  return () => {
    cluster?.destroy();
    teardown();
  };
}

/** Builds left behind by runs that were killed before their teardown. */
function removeStaleBuilds(): void {
  for (const name of readdirSync(buildsDir)) {
    const path = join(buildsDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another run removed it first
    }
  }
}
