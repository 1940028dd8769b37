#!/usr/bin/env node
// The package mirror this project is developed against lacks most of rollup's per-platform
// binaries (only the linux glibc ones are there), so `npm install` writes a lockfile without
// them and `npm ci` then refuses it as out of sync. This adds the missing entries exactly as npm
// writes them for a platform package it cannot install here (version, os/cpu/libc, optional),
// without an integrity hash, which npm records when it next fetches one. Run it after any
// `npm install` that changes rollup's version: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

const CPU = { x64: 'x64', arm64: 'arm64', arm: 'arm', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x' };

/** os/cpu/libc from a rollup platform package name, e.g. rollup-linux-arm-musleabihf. */
function platformOf(name) {
  const m = /^@rollup\/rollup-([a-z0-9]+)-([a-z0-9]+)(?:-([a-z0-9]+))?$/.exec(name);
  if (!m) return undefined;
  const [, os, arch, abi] = m;
  const cpu = CPU[arch] ?? (arch === 'arm' ? 'arm' : undefined);
  if (!cpu) return undefined;
  const out = { cpu: [cpu], os: [os] };
  if (os === 'linux') out.libc = [abi?.startsWith('musl') ? 'musl' : 'glibc'];
  return out;
}

let added = 0;
for (const [path, pkg] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const at = `node_modules/${dep}`;
    if (packages[at] || !dep.startsWith('@rollup/rollup-')) continue;
    const platform = platformOf(dep);
    if (!platform) throw new Error(`cannot tell the platform of ${dep} (needed by ${path})`);
    packages[at] = { version, ...platform, dev: pkg.dev ?? false, license: 'MIT', optional: true };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} missing platform entries`);
