import { createHash, timingSafeEqual } from 'node:crypto';
import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { newRootKey } from '../keys/key.js';
import type { TokenPair } from '../tokens/claims.js';
import { openSessionPair } from '../tokens/session-pair.js';
import { nowSeconds } from '../util/clock.js';
import { sanitizeString } from './sanitize.js';

export interface MockTokenRequest {
  client_name: string;
  permissions?: string[] | null | undefined;
  node_url?: string | null | undefined;
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a === b;
}

/**
 * `POST /auth/mock-token` after body extraction (wire §3.9): checks the `Authorization` value
 * against `development.mock_auth_header_value`, stores a `mock_auth` root key and opens its
 * first session. The key is removed again when the tokens cannot be made.
 */
export async function mintMockToken(
  core: Core,
  authorization: string | undefined,
  req: MockTokenRequest,
): Promise<{ keyId: string; pair: TokenPair }> {
  const expected = core.config.development.mock_auth_header_value ?? '';
  if (authorization === undefined || expected === '' || !sameSecret(authorization, expected)) {
    throw new AuthError('unauthorized', 'Invalid or missing authorization for mock endpoint');
  }
  const clientName = sanitizeString(req.client_name);
  if (clientName === '') throw new AuthError('bad_request', 'Client name cannot be empty after sanitization');
  const now = nowSeconds(core.clock);
  const keyId = `mock_${clientName}_${now}`;
  const permissions = req.permissions ?? ['admin'];
  const nodeUrl = req.node_url ?? undefined;
  const key = newRootKey({
    publicKey: `mock_public_key_${now}`,
    authMethod: 'mock_auth',
    permissions,
    nodeUrl,
    now,
  });
  try {
    await core.store.batch([core.keys.putOp(keyId, key)]);
  } catch (e) {
    throw new AuthError('internal', `Failed to create mock key: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { ops, pair } = await openSessionPair(core, { keyId, permissions, nodeUrl, now });
    await core.store.batch(ops);
    return { keyId, pair };
  } catch (e) {
    await core.store.del(`root_key:${keyId}`).catch(() => {});
    throw new AuthError('internal', 'Failed to generate mock tokens', { cause: e });
  }
}
