/**
 * ECDSA signatures are malleable: when (r, s) verifies, so does (r, n − s). A second spelling of
 * the same ES256 token would sidestep what is keyed on the token text (the verified-signature
 * cache, logs, deny-lists), which is why only the canonical base64url spelling verifies
 * (issue 10 item 6). So we mint only the low-s form (s ≤ n/2, as Bitcoin's BIP 62) and refuse
 * the other one: one token, one string, under ES256 too. (Ed25519 verification already refuses
 * a non-canonical S.)
 */

/** The order of the P-256 group. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;

const sOf = (sig: Uint8Array): bigint => BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);

/** Whether a 64-byte r‖s ES256 signature is in the high-s form (never minted by us). */
export function isHighS(sig: Uint8Array): boolean {
  return sig.length === 64 && sOf(sig) > HALF_N;
}

/** The compact JWS with its ES256 signature in the low-s form (unchanged when it already is). */
export function withLowS(token: string): string {
  const at = token.lastIndexOf('.');
  const sig = Buffer.from(token.slice(at + 1), 'base64url');
  if (!isHighS(sig)) return token;
  return `${token.slice(0, at + 1)}${flipS(sig).toString('base64url')}`;
}

/** (r, s) → (r, n − s): the other valid signature of the same message. */
export function flipS(sig: Uint8Array): Buffer {
  const out = Buffer.from(sig);
  Buffer.from((N - sOf(sig)).toString(16).padStart(64, '0'), 'hex').copy(out, 32);
  return out;
}
