/** ASCII-only lower-casing, as §7.2 says: `Ä` stays `Ä`. */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** The host part `Key.isValidForNode` compares (permissions.md §7.2). */
export function extractHost(s: string): string | undefined {
  if (URL.canParse(s)) {
    const host = new URL(s).hostname;
    if (host !== '') return asciiLower(host);
  }
  const trimmed = s.trim();
  if (trimmed === '') return undefined;
  const beforeSlash = trimmed.split('/', 1)[0] ?? '';
  const beforeColon = beforeSlash.split(':', 1)[0] ?? '';
  return beforeColon === '' ? undefined : asciiLower(beforeColon);
}

/** Login-time node check, `Key.isValidForNode` (permissions.md §7.2). */
export function isValidForNode(keyNodeUrl: string | undefined, requestNode: string | undefined): boolean {
  if (keyNodeUrl === undefined) return true;
  if (requestNode === undefined) return false;
  const a = extractHost(keyNodeUrl);
  const b = extractHost(requestNode);
  return a !== undefined && b !== undefined && a === b;
}
