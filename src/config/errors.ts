/**
 * Configuration errors (wire-contract §7.3): one line per problem, every problem at once. The
 * CLI prints `message` to stderr and exits 2; `createAuth` rejects with it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.problems = [...problems];
  }
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

/**
 * `invalid configuration: <key> (from <source>): <what is wrong>`. `key` carries list indices
 * (`cors.allowed_origins[1]`); `source` is a file path, an `AUTH__…` variable, `--bind`,
 * `defaults`, `createAuth` or `test`.
 */
export function formatProblem(key: string, source: string, message: string): string {
  return `invalid configuration: ${key} (from ${source}): ${message}`;
}

/** For problems that belong to no single key: an unreadable file, a TOML syntax error. */
export function formatSourceProblem(source: string, message: string): string {
  return `invalid configuration: ${source}: ${message}`;
}
