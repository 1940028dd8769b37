// How the service is launched (issue 11: memory): the environment and Node flags it runs with are
// written once, in the first line of src/cli.ts (`#!/usr/bin/env -S NAME=value… node --flag…`,
// kept by tsc in dist/cli.js, so `npx mero-auth` and `./dist/cli.js` use them); `npm start`, the
// Dockerfile, the benches and the end-to-end tests start the service the same way, and
// test/scripts/node-flags.test.ts fails when one of them differs.
import { readFileSync } from 'node:fs';

const SHEBANG = /^#!\/usr\/bin\/env -S((?: [A-Z_][A-Z0-9_]*=[^\s=]+)*) node((?: --[a-z0-9-]+(?:=[^\s]+)?)*)$/;

/**
 * The environment and Node flags of a `#!/usr/bin/env -S [NAME=value…] node [--flag…]` first
 * line; an error for any other first line.
 */
export function launchOf(file) {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const m = SHEBANG.exec(first);
  if (!m) {
    throw new Error(
      `${file}: expected a "#!/usr/bin/env -S [NAME=value…] node [--flag…]" first line, got ${JSON.stringify(first)}`,
    );
  }
  const words = (s) => (s ?? '').trim().split(' ').filter(Boolean);
  const env = Object.fromEntries(words(m[1]).map((a) => a.split('=', 2)));
  return { env, flags: words(m[2]) };
}
