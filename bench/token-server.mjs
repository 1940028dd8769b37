#!/usr/bin/env node
// The service as the CLI serves it (the built dist, LevelDB, the validate lane), plus N distinct
// valid access tokens of one session, written to a file, for the "many live tokens" benchmark:
// node bench/token-server.mjs <port> <data dir> <count> <tokens file>. Prints READY when listening.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { provision } from '../dist/auth/provision.js';
import { loadConfig } from '../dist/config/load.js';
import { createApp, edgeOptions } from '../dist/http/app.js';
import { validateLane } from '../dist/http/validate-lane.js';
import { listen } from '../dist/server.js';
import { AuthService } from '../dist/service.js';
import { pairClaims, signClaims } from '../dist/tokens/mint.js';

const [port, dir, count, file] = process.argv.slice(2);
const { config } = loadConfig({
  env: { AUTH__STORAGE__PATH: join(dir, 'auth'), AUTH__LISTEN_ADDR: `127.0.0.1:${port}` },
  mode: 'standalone',
});
const svc = await AuthService.open(config, { env: process.env });
const { keyId } = await provision(svc.core, 'bench', 'bench-password-123', { wait: true });
const now = Math.floor(Date.now() / 1000);
const { jwt } = svc.config;
const { sid, ops } = svc.core.sessions.openOps(keyId, now + jwt.refresh_token_expiry, now);
await svc.core.store.batch(ops);
const tokens = [];
for (let i = 0; i < Number(count); i++) {
  // Each pair has its own jti: the same caller, a distinct token string every time.
  const { access } = pairClaims({
    sub: keyId,
    sid,
    permissions: ['admin'],
    issuer: jwt.issuer,
    nowSeconds: now,
    accessExpiry: 86_400,
    refreshExpiry: jwt.refresh_token_expiry,
  });
  tokens.push(await signClaims(access, svc.core.secrets));
}
writeFileSync(file, tokens.join('\n'));
await listen(createApp(svc), config.listen_addr, { lane: validateLane(svc, edgeOptions(svc)) });
console.log('READY');
process.on('SIGTERM', async () => {
  await svc.close();
  process.exit(0);
});
