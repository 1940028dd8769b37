/**
 * Why a token failed verification (wire §4.4). `expired` is its own kind because every entry
 * point maps it differently; every other failure is `invalid` with the detail text of §4.4.
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly kind: 'expired' | 'invalid',
    readonly detail: string,
  ) {
    super(kind === 'expired' ? 'Token has expired' : `Invalid token: ${detail}`);
  }
}

export const expired = (): TokenError => new TokenError('expired', 'Token has expired');
export const invalid = (detail: string): TokenError => new TokenError('invalid', detail);
