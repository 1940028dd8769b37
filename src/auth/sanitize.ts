/**
 * The three sanitisers of wire §8.3. They work on code points (the `u` flag), so a surrogate
 * pair is kept or dropped whole, never split.
 */

const NOT_PRINTABLE_ASCII = /[^\x20-\x7E]/gu;
const NOT_IDENTIFIER = /[^\p{Alphabetic}\p{N}_-]/gu;
const HTML_SPECIAL = /[&<>"']/g;

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
};

/** Keeps U+0020–U+007E: drops every control character and all non-ASCII. */
export function sanitizeString(s: string): string {
  return s.replace(NOT_PRINTABLE_ASCII, '');
}

/** Keeps Unicode letters (Alphabetic) and numbers (Nd, Nl, No), `-` and `_`. */
export function sanitizeIdentifier(s: string): string {
  return s.replace(NOT_IDENTIFIER, '');
}

/** One pass, so an `&` produced by an escape is never escaped again. */
export function escapeHtml(s: string): string {
  return s.replace(HTML_SPECIAL, (c) => HTML_ESCAPES[c] ?? c);
}
