/**
 * A JSON value described the way serde's "invalid type" errors do (`integer \`5\``, `sequence`,
 * `map`), for the best-effort `<detail>` texts of the wire contract. Long strings are cut, so a
 * hostile value never floods an error message.
 */
export function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'unit';
  if (Array.isArray(v)) return 'sequence';
  if (typeof v === 'number') return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v)}`;
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  return 'map';
}
