/**
 * A startup failure of the signing-secret layer (KEK resolution, unsealing, a malformed record).
 * The CLI prints the message and exits 1 (wire §7.5); nothing here ever reaches HTTP.
 */
export class SecretsError extends Error {
  override readonly name = 'SecretsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
