#!/usr/bin/env node
// `npm start` runs this first: it builds (npm run build) only when dist/ is missing or older than
// a build input, so a restart of an unchanged checkout starts at once, and a `git pull` or an edit
// still rebuilds. Directories count as inputs too: deleting a source file changes its
// directory's mtime, so a deletion rebuilds as well.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INPUT_DIRS = ['src', 'frontend'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
// What the build writes last in each of its two steps (tsc, then the login page).
export const OUTPUTS = ['dist/cli.js', 'dist/frontend/index.html'];

function mtimeOrUndefined(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest mtime among the build inputs under `root` (files and the directories holding them). */
export function newestInput(root) {
  let newest = 0;
  const walk = (dir) => {
    newest = Math.max(newest, statSync(dir).mtimeMs);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of INPUT_DIRS) if (mtimeOrUndefined(join(root, dir)) !== undefined) walk(join(root, dir));
  for (const file of INPUT_FILES) newest = Math.max(newest, mtimeOrUndefined(join(root, file)) ?? 0);
  return newest;
}

/** Why dist/ under `root` must be rebuilt, or undefined when it is current. */
export function staleReason(root) {
  const outputs = OUTPUTS.map((p) => [p, mtimeOrUndefined(join(root, p))]);
  const missing = outputs.find(([, m]) => m === undefined);
  if (missing !== undefined) return `${missing[0]} is missing`;
  const oldest = Math.min(...outputs.map(([, m]) => m));
  if (newestInput(root) > oldest) return 'a source file changed since the last build';
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(import.meta.url), '..', '..');
  const reason = staleReason(root);
  if (reason === undefined) process.exit(0);
  console.error(`mero-auth: building (${reason})`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
