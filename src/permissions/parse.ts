import {
  ANY_USER,
  GLOBAL,
  type AliasType,
  type AliasVerb,
  type Permission,
  type ResourceScope,
  type UserScope,
} from './permission.js';

/** One code per row of permissions.md §2.3. */
export const PARSE_ERROR_CODES = [
  'empty',
  'unknown_category',
  'unknown_application_action',
  'unknown_package_action',
  'unknown_blob_action',
  'unknown_blob_add_action',
  'unknown_namespace_action',
  'unknown_group_action',
  'unknown_context_action',
  'unknown_context_capabilities_action',
  'unknown_context_application_action',
  'unknown_context_alias_action',
  'unknown_alias_type',
  'unknown_keys_action',
  'unknown_keys_clients_action',
  'unknown_keys_permissions_action',
] as const;

export type PermissionParseErrorCode = (typeof PARSE_ERROR_CODES)[number];

/** The message is `<prefix><segment>`; the segment is empty when it is missing (§2.3). */
const MESSAGE_PREFIX: Readonly<Record<PermissionParseErrorCode, string>> = {
  empty: 'Empty permission string',
  unknown_category: 'Unknown permission category: ',
  unknown_application_action: 'Unknown application action: ',
  unknown_package_action: 'Unknown package action: ',
  unknown_blob_action: 'Unknown blob action: ',
  unknown_blob_add_action: 'Unknown blob add action: ',
  unknown_namespace_action: 'Unknown namespace action: ',
  unknown_group_action: 'Unknown group action: ',
  unknown_context_action: 'Unknown context action: ',
  unknown_context_capabilities_action: 'Unknown context capabilities action: ',
  unknown_context_application_action: 'Unknown context application action: ',
  unknown_context_alias_action: 'Unknown context alias action: ',
  unknown_alias_type: 'Unknown alias type: ',
  unknown_keys_action: 'Unknown keys action: ',
  unknown_keys_clients_action: 'Unknown keys clients action: ',
  unknown_keys_permissions_action: 'Unknown keys permissions action: ',
};

export class PermissionParseError extends Error {
  override readonly name = 'PermissionParseError';
  readonly code: PermissionParseErrorCode;
  /** The offending segment exactly as written ('' when missing, and for `empty`). */
  readonly segment: string;

  constructor(code: PermissionParseErrorCode, segment: string) {
    super(MESSAGE_PREFIX[code] + segment);
    this.code = code;
    this.segment = segment;
  }
}

/** Internal failure value: parsing without exceptions keeps lenient parsing cheap. */
interface Failure {
  readonly error: PermissionParseErrorCode;
  readonly segment: string;
}

const fail = (error: PermissionParseErrorCode, segment: string): Failure => ({ error, segment });
const isFailure = (r: Permission | Failure): r is Failure => 'error' in r;

/** Strict parse (§2). Throws PermissionParseError with the exact §2.3 message. */
export function parsePermission(s: string): Permission {
  const r = parseOrFail(s);
  if (isFailure(r)) throw new PermissionParseError(r.error, r.segment);
  return r;
}

/** Lenient parse (§2.3 last paragraph): undefined instead of an error. Not cached. */
export function tryParsePermission(s: string): Permission | undefined {
  const r = parseOrFail(s);
  return isFailure(r) ? undefined : r;
}

/**
 * Rust's `str::trim` (Unicode White_Space), not JS `trim`: the two differ on U+0085 (Rust
 * trims it) and U+FEFF (JS trims it). Parsing is kept exactly as Rust has it.
 */
const RUST_WS = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const RUST_TRIM = new RegExp(`^[${RUST_WS}]+|[${RUST_WS}]+$`, 'g');
const rustTrim = (s: string): string => s.replace(RUST_TRIM, '');

interface Params {
  readonly scope: ResourceScope;
  readonly user: UserScope;
  readonly method: string | undefined;
}

const NO_PARAMS: Params = Object.freeze({ scope: GLOBAL, user: ANY_USER, method: undefined });

/** §2.1 step 4. `paramsPart` is '' or starts with the first `[` of the string. */
function parseParams(paramsPart: string): Params {
  if (paramsPart === '') return NO_PARAMS;
  const close = paramsPart.indexOf(']');
  // A missing `]` silently means Global: `context:list[abc` = `context:list`.
  if (close === -1 || close === 1) return NO_PARAMS;
  const pieces = paramsPart.slice(1, close).split(',');
  const p1 = rustTrim(pieces[0] ?? '');
  const p2 = pieces.length > 1 ? rustTrim(pieces[1] ?? '') : '';
  const p3 = pieces.length > 2 ? rustTrim(pieces[2] ?? '') : '';
  return {
    scope: p1 === '' ? GLOBAL : { kind: 'Specific', ids: [p1] },
    user: p2 === '' ? ANY_USER : { kind: 'Specific', user: p2 },
    method: p3 === '' ? undefined : p3,
  };
}

// Maps, not object literals: segments are input, and `constructor` or `__proto__` must not resolve.
const ALIAS_VERBS: ReadonlyMap<string, AliasVerb> = new Map([
  ['create', 'Alias.Create'],
  ['list', 'Alias.List'],
  ['lookup', 'Alias.Lookup'],
  ['delete', 'Alias.Delete'],
]);

const SCOPED_COLLECTION_VERBS: ReadonlyMap<string, 'Create' | 'List' | 'Manage'> = new Map([
  ['create', 'Create'],
  ['list', 'List'],
  ['manage', 'Manage'],
]);

const isAliasType = (s: string): s is AliasType => s === 'context' || s === 'application' || s === 'identity';

function parseOrFail(s: string): Permission | Failure {
  if (s === '') return fail('empty', '');
  const bracket = s.indexOf('[');
  const main = bracket === -1 ? s : s.slice(0, bracket);
  const paramsPart = bracket === -1 ? '' : s.slice(bracket);
  // Segments after the fourth are ignored; a missing segment is ''.
  const seg = main.split(':', 4);
  const category = seg[0] ?? '';
  const action = seg[1] ?? '';
  const sub = seg[2] ?? '';
  const subsub = seg[3] ?? '';

  switch (category) {
    case 'admin':
      return { family: 'Admin' };

    case 'application': {
      if (action === '') return { family: 'Application', verb: 'All' };
      const { scope } = parseParams(paramsPart);
      switch (action) {
        case 'list':
          return { family: 'Application', verb: 'List', scope };
        case 'install':
          return { family: 'Application', verb: 'Install', scope };
        case 'uninstall':
          return { family: 'Application', verb: 'Uninstall', scope };
      }
      return fail('unknown_application_action', action);
    }

    case 'package': {
      if (action === '') return { family: 'Package', verb: 'All' };
      const { scope } = parseParams(paramsPart);
      switch (action) {
        case 'list-packages':
          return { family: 'Package', verb: 'ListPackages', scope };
        case 'list-versions':
          return { family: 'Package', verb: 'ListVersions', scope };
        case 'get-latest-version':
          return { family: 'Package', verb: 'GetLatestVersion', scope };
      }
      return fail('unknown_package_action', action);
    }

    case 'blob':
      switch (action) {
        case '':
          return { family: 'Blob', verb: 'All' };
        case 'add':
          switch (sub) {
            case '':
              return { family: 'Blob', verb: 'Add', add: 'All' };
            case 'stream':
              return { family: 'Blob', verb: 'Add', add: 'Stream' };
            case 'file':
              return { family: 'Blob', verb: 'Add', add: 'File' };
            case 'url':
              return { family: 'Blob', verb: 'Add', add: 'Url' };
          }
          return fail('unknown_blob_add_action', sub);
        case 'remove':
          return { family: 'Blob', verb: 'Remove', scope: parseParams(paramsPart).scope };
        case 'list':
          return { family: 'Blob', verb: 'List', scope: parseParams(paramsPart).scope };
        case 'get':
          return { family: 'Blob', verb: 'Get', scope: parseParams(paramsPart).scope };
      }
      return fail('unknown_blob_action', action);

    case 'namespace':
    case 'group': {
      const verb = action === '' ? 'All' : SCOPED_COLLECTION_VERBS.get(action);
      if (verb === undefined) {
        return fail(category === 'namespace' ? 'unknown_namespace_action' : 'unknown_group_action', action);
      }
      const { scope } = parseParams(paramsPart);
      return category === 'namespace' ? { family: 'Namespace', verb, scope } : { family: 'Group', verb, scope };
    }

    case 'context':
      return parseContext(action, sub, subsub, parseParams(paramsPart));

    case 'keys':
      return parseKeys(action, sub, paramsPart);
  }
  return fail('unknown_category', category);
}

function parseContext(action: string, sub: string, subsub: string, p: Params): Permission | Failure {
  const { scope } = p;
  switch (action) {
    case '':
      // The user piece is dropped: `context[ctx,id]` = Context.All(Specific[ctx]).
      return { family: 'Context', verb: 'All', scope };
    case 'create':
      return { family: 'Context', verb: 'Create', scope };
    case 'list':
      return { family: 'Context', verb: 'List', scope };
    case 'delete':
      return { family: 'Context', verb: 'Delete', scope };
    case 'leave':
      return { family: 'Context', verb: 'Leave', scope, user: p.user };
    case 'invite':
      return { family: 'Context', verb: 'Invite', scope, user: p.user };
    case 'execute':
      return p.method === undefined
        ? { family: 'Context', verb: 'Execute', scope, user: p.user }
        : { family: 'Context', verb: 'Execute', scope, user: p.user, method: p.method };
    case 'capabilities':
      if (sub === 'grant') return { family: 'Context', verb: 'Capabilities.Grant', scope };
      if (sub === 'revoke') return { family: 'Context', verb: 'Capabilities.Revoke', scope };
      return fail('unknown_context_capabilities_action', sub);
    case 'application':
      if (sub === 'update') return { family: 'Context', verb: 'Application.Update', scope };
      return fail('unknown_context_application_action', sub);
    case 'alias': {
      if (sub === '') return { family: 'Context', verb: 'Alias.All', scope };
      const verb = ALIAS_VERBS.get(sub);
      if (verb === undefined) return fail('unknown_context_alias_action', sub);
      if (!isAliasType(subsub)) return fail('unknown_alias_type', subsub);
      return { family: 'Context', verb, aliasType: subsub, scope };
    }
  }
  return fail('unknown_context_action', action);
}

function parseKeys(action: string, sub: string, paramsPart: string): Permission | Failure {
  switch (action) {
    case '':
      return { family: 'Keys', verb: 'All' };
    case 'create':
      return { family: 'Keys', verb: 'Create' };
    case 'list':
      return { family: 'Keys', verb: 'List' };
    case 'delete':
    case 'revoke':
      return { family: 'Keys', verb: 'Delete' };
    case 'clients':
      if (sub === '' || sub === 'list') return { family: 'Keys', verb: 'ListClients' };
      if (sub === 'delete') return { family: 'Keys', verb: 'DeleteClient' };
      return fail('unknown_keys_clients_action', sub);
    case 'permissions': {
      const { scope } = parseParams(paramsPart);
      if (sub === '' || sub === 'get') return { family: 'Keys', verb: 'GetPermissions', scope };
      if (sub === 'update') return { family: 'Keys', verb: 'UpdatePermissions', scope };
      return fail('unknown_keys_permissions_action', sub);
    }
  }
  return fail('unknown_keys_action', action);
}
