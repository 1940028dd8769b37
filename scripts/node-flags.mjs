// The Node flags the service runs with (issue 11: memory). They are written once, in the first
// line of src/cli.ts (`#!/usr/bin/env -S node --flag…`, kept by tsc in dist/cli.js, so `npx
// mero-auth` and `./dist/cli.js` use them); `npm start`, the Dockerfile, the benches and the
// end-to-end tests start the service with the same flags, and test/scripts/node-flags.test.ts
// fails when one of them differs.
import { readFileSync } from 'node:fs';

const SHEBANG = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+(?:=[^\s]+)?)*)$/;

/** The flags of a `#!/usr/bin/env -S node …` first line; an error for any other first line. */
export function nodeFlagsOf(file) {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const m = SHEBANG.exec(first);
  if (!m) throw new Error(`${file}: expected a "#!/usr/bin/env -S node --flag…" first line, got ${JSON.stringify(first)}`);
  return (m[1] ?? '').trim().split(' ').filter(Boolean);
}
