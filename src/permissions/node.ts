/** Login-time node check, `Key.isValidForNode` (permissions.md §7.2). */
export function extractHost(s: string): string | undefined {
  if (URL.canParse(s)) {
    const host = new URL(s).hostname;
    if (host !== '') return host.toLowerCase();
  }
  const trimmed = s.trim();
  if (trimmed === '') return undefined;
  const beforeSlash = trimmed.split('/', 1)[0] ?? '';
  const beforeColon = beforeSlash.split(':', 1)[0] ?? '';
  return beforeColon === '' ? undefined : beforeColon.toLowerCase();
}

export function isValidForNode(keyNodeUrl: string | undefined, requestNode: string | undefined): boolean {
  if (keyNodeUrl === undefined) return true;
  if (requestNode === undefined) return false;
  const a = extractHost(keyNodeUrl);
  const b = extractHost(requestNode);
  return a !== undefined && b !== undefined && a === b;
}
