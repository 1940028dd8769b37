import { readFileSync } from 'node:fs';

/**
 * The service version (`/admin/identity`, `--version`): package.json's `version`. The file sits
 * one level above both `src/` (tests) and `dist/` (the build), so one relative URL serves both.
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
