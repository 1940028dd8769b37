/** The environment and Node flags of a `#!/usr/bin/env -S [NAME=value…] node [--flag…]` first line. */
export function launchOf(file: string): { env: Record<string, string>; flags: string[] };
