import { Hono } from 'hono';
import { createApp } from '../dist/http/app.js';
import { AuthService } from '../dist/service.js';
import { configFromPartial } from '../dist/config/load.js';
import { MemoryStore } from '../dist/storage/memory.js';
import { provision } from '../dist/auth/provision.js';
const config = configFromPartial({ storage: { type: 'memory', path: 'x' }, user_password: { argon2: { memory_kib: 7168, iterations: 5 } } });
const svc = await AuthService.open(config, { store: new MemoryStore(), env: {} });
await provision(svc.core, 'admin', 'password-123', { wait: true });
const app = createApp(svc);
const res = await app.request('/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_method: 'user_password', public_key: 'admin', client_name: 'mero-js-sdk', timestamp: 1, provider_data: { username: 'admin', password: 'password-123' } }) });
const token = (await res.json()).data.access_token;
const hello = new Hono(); hello.get('/', (c) => c.text('Hello Hono!'));
async function time(name, fn, n = 200000) {
  for (let i = 0; i < 20000; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(name.padEnd(30), (ns / 1000).toFixed(2), 'µs');
}
const hdrs = { authorization: `Bearer ${token}`, host: 'localhost' };
await time('hello', () => hello.fetch(new Request('http://localhost/')));
await time('404', () => app.fetch(new Request('http://localhost/nope')));
await time('validate', () => app.fetch(new Request('http://localhost/auth/validate', { headers: hdrs })));
const { authenticateAccess } = await import('../dist/auth/validate.js');
await time('authenticateAccess', () => authenticateAccess(svc.core, token, { host: 'localhost' }, 'validate'));
