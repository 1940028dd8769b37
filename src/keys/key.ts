/** The key record of wire §6.2, root and client alike; field order is the stored JSON order. */
export interface KeyRecord {
  key_type: 'Root' | 'Client';
  public_key: string | null;
  auth_method: string | null;
  root_key_id: string | null;
  name: string | null;
  permissions: string[];
  node_url?: string;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
}

export const rootKeyKey = (id: string): string => `root_key:${id}`;
export const clientKeyKey = (id: string): string => `client_key:${id}`;
export const rootClientsPrefix = (rootId: string): string => `idx:root_clients:${rootId}:`;

export function isExpired(key: KeyRecord, now: number): boolean {
  return key.expires_at !== null && key.expires_at !== undefined && now >= key.expires_at;
}

export function isRevoked(key: KeyRecord): boolean {
  return key.revoked_at !== null && key.revoked_at !== undefined;
}

/** Neither revoked nor expired. */
export function isValidKey(key: KeyRecord, now: number): boolean {
  return !isRevoked(key) && !isExpired(key, now);
}

/** Normalises a stored record into the documented field order (missing expires_at → null). */
export function normaliseKey(raw: KeyRecord): KeyRecord {
  const out: KeyRecord = {
    key_type: raw.key_type,
    public_key: raw.public_key ?? null,
    auth_method: raw.auth_method ?? null,
    root_key_id: raw.root_key_id ?? null,
    name: raw.name ?? null,
    permissions: raw.permissions ?? [],
    created_at: raw.created_at,
    revoked_at: raw.revoked_at ?? null,
    expires_at: raw.expires_at ?? null,
  };
  if (typeof raw.node_url === 'string') {
    const { created_at, revoked_at, expires_at, ...head } = out;
    return { ...head, node_url: raw.node_url, created_at, revoked_at, expires_at };
  }
  return out;
}

export function newRootKey(fields: {
  publicKey: string;
  authMethod: string;
  permissions: string[];
  nodeUrl?: string | null | undefined;
  now: number;
}): KeyRecord {
  return normaliseKey({
    key_type: 'Root',
    public_key: fields.publicKey,
    auth_method: fields.authMethod,
    root_key_id: null,
    name: null,
    permissions: fields.permissions,
    ...(fields.nodeUrl ? { node_url: fields.nodeUrl } : {}),
    created_at: fields.now,
    revoked_at: null,
    expires_at: null,
  });
}
