import { ANY_USER, GLOBAL, type AliasType, type Permission, type ResourceScope } from './permission.js';

/**
 * Route → required permissions (permissions.md §8). Runs on every guarded and forwarded request,
 * so all tables are built once at module load: table A is a map, table B is grouped by literal
 * prefix (at most one group can match a path, so first-match order is kept), and constant
 * results are shared frozen arrays. Only results that capture a path segment allocate.
 */

/** §8.1 method normalisation: HEAD reads like GET; anything else, lower case included, is ANY. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'ANY';

export function normalizeMethod(method: string): RouteMethod {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return 'GET';
    case 'POST':
    case 'PUT':
    case 'DELETE':
    case 'PATCH':
      return method;
  }
  return 'ANY';
}

export type RequiredPermissions = readonly Permission[];

const NONE: RequiredPermissions = Object.freeze([]);
const only = (p: Permission): RequiredPermissions => Object.freeze([Object.freeze(p)]);
const one = (p: Permission): RequiredPermissions => [p];
const scoped = (id: string): ResourceScope => ({ kind: 'Specific', ids: [id] });

const ADMIN = only({ family: 'Admin' });
const CONTEXT_EXECUTE = only({ family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER });
const GROUP_CREATE = only({ family: 'Group', verb: 'Create', scope: GLOBAL });
const KEYS_DELETE = only({ family: 'Keys', verb: 'Delete' });

// ── Table A (§8.2): exact (method, path). ──────────────────────────────────────────────────────

type MethodRow = Partial<Record<RouteMethod, RequiredPermissions>>;

const TABLE_A = new Map<string, MethodRow>([
  ['/jsonrpc', { POST: CONTEXT_EXECUTE }],
  ['/admin-api/applications', { GET: only({ family: 'Application', verb: 'List', scope: GLOBAL }) }],
  ['/admin-api/install-application', { POST: only({ family: 'Application', verb: 'Install', scope: GLOBAL }) }],
  ['/admin-api/uninstall-application', { POST: only({ family: 'Application', verb: 'Uninstall', scope: GLOBAL }) }],
  ['/admin-api/packages', { GET: only({ family: 'Package', verb: 'ListPackages', scope: GLOBAL }) }],
  [
    '/admin-api/contexts',
    {
      GET: only({ family: 'Context', verb: 'List', scope: GLOBAL }),
      POST: only({ family: 'Context', verb: 'Create', scope: GLOBAL }),
    },
  ],
  ['/admin-api/contexts/sync', { POST: CONTEXT_EXECUTE }],
  ['/admin-api/identity/context', { POST: CONTEXT_EXECUTE }],
  ['/admin-api/identity', { GET: only({ family: 'Namespace', verb: 'List', scope: GLOBAL }) }],
  [
    '/admin-api/namespaces',
    {
      GET: only({ family: 'Namespace', verb: 'List', scope: GLOBAL }),
      POST: only({ family: 'Namespace', verb: 'Create', scope: GLOBAL }),
    },
  ],
  ['/admin-api/groups', { POST: GROUP_CREATE }],
  ['/admin-api/groups/join', { POST: only({ family: 'Group', verb: 'Manage', scope: GLOBAL }) }],
  [
    '/admin-api/blobs',
    {
      PUT: only({ family: 'Blob', verb: 'Add', add: 'Stream' }),
      GET: only({ family: 'Blob', verb: 'List', scope: GLOBAL }),
    },
  ],
  ['/admin/keys', { GET: only({ family: 'Keys', verb: 'List' }), POST: ADMIN }],
  ['/admin/revoke', { POST: KEYS_DELETE }],
  ['/admin/keys/clients', { GET: only({ family: 'Keys', verb: 'ListClients' }) }],
  // Additions (not in permissions.md, docs/compatibility.md): the caller's own sessions need
  // nothing beyond a valid bearer; the handlers confine them to the caller's key and below.
  ['/admin/sessions', { GET: NONE }],
  ['/admin/sessions/revoke-all', { POST: NONE }],
  // Additions (issue 13): the caller's own passkeys and second factor, like the sessions above;
  // the handlers confine them to the account whose root key signed the token.
  ['/admin/passkeys', { GET: NONE, POST: NONE }],
  ['/admin/passkeys/options', { POST: NONE }],
  ['/admin/second-factor', { GET: NONE, PUT: NONE }],
  ['/admin/totp', { POST: NONE }],
  ['/admin/totp/confirm', { POST: NONE }],
  ['/blobs/stream', { POST: only({ family: 'Blob', verb: 'Add', add: 'Stream' }) }],
  ['/blobs/file', { POST: only({ family: 'Blob', verb: 'Add', add: 'File' }) }],
  ['/blobs/url', { POST: only({ family: 'Blob', verb: 'Add', add: 'Url' }) }],
]);

// ── Table B (§8.3): parameterised patterns, first match decides. ───────────────────────────────

/** Receives the normalised method and the match (group 1 is always the first capture). */
type RowResult = (m: RouteMethod, g: RegExpExecArray) => RequiredPermissions;

interface RowB {
  /** Spec row number, for tests and debugging. */
  readonly row: string;
  readonly pattern: string;
  readonly re: RegExp;
  readonly result: RowResult;
}

interface GroupB {
  readonly prefix: string;
  readonly rows: readonly RowB[];
}

const SEG = '([^/]+)';
const TYPE = '(context|application|identity)';
const row = (rowNo: string, pattern: string, result: RowResult): RowB => ({
  row: rowNo,
  pattern,
  re: new RegExp(`^${pattern}$`),
  result,
});
const cap = (g: RegExpExecArray, i: number): string => g[i] as string;

/** The twelve Global alias requirements, prebuilt. */
const ALIAS = (() => {
  const byType = (verb: 'Alias.Create' | 'Alias.List' | 'Alias.Lookup' | 'Alias.Delete') => ({
    context: only({ family: 'Context', verb, aliasType: 'context', scope: GLOBAL }),
    application: only({ family: 'Context', verb, aliasType: 'application', scope: GLOBAL }),
    identity: only({ family: 'Context', verb, aliasType: 'identity', scope: GLOBAL }),
  });
  return {
    create: byType('Alias.Create'),
    list: byType('Alias.List'),
    lookup: byType('Alias.Lookup'),
    delete: byType('Alias.Delete'),
  } as const;
})();

const ROWS: readonly RowB[] = [
  row('B1', `/admin-api/applications/${SEG}`, (m, g) =>
    m === 'GET' ? one({ family: 'Application', verb: 'List', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B2', `/admin-api/contexts/${SEG}`, (m, g) =>
    m === 'GET'
      ? one({ family: 'Context', verb: 'List', scope: scoped(cap(g, 1)) })
      : m === 'DELETE'
        ? one({ family: 'Context', verb: 'Delete', scope: scoped(cap(g, 1)) })
        : NONE,
  ),
  row('B3', `/admin-api/contexts/${SEG}/capabilities/(grant|revoke)`, (m, g) =>
    m === 'POST'
      ? one({
          family: 'Context',
          verb: cap(g, 2) === 'grant' ? 'Capabilities.Grant' : 'Capabilities.Revoke',
          scope: scoped(cap(g, 1)),
        })
      : NONE,
  ),
  row('B4', `/admin-api/contexts/${SEG}/application`, (m, g) =>
    m === 'POST' ? one({ family: 'Context', verb: 'Application.Update', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B5', `/admin-api/contexts/for-application/${SEG}`, (m, g) =>
    m === 'GET' ? one({ family: 'Context', verb: 'List', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B6', `/admin-api/contexts/with-executors/for-application/${SEG}`, (m, g) =>
    m === 'GET' ? one({ family: 'Context', verb: 'List', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B7', `/blobs/${SEG}`, (m, g) =>
    m === 'DELETE' ? one({ family: 'Blob', verb: 'Remove', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B8', `/admin/keys/${SEG}`, (m) => (m === 'DELETE' ? KEYS_DELETE : NONE)),
  row('B9', `/admin/keys/${SEG}/permissions`, (m, g) =>
    // PUT needs `admin`: the update handler can add `admin` itself, so anything less escalates.
    m === 'GET' ? one({ family: 'Keys', verb: 'GetPermissions', scope: scoped(cap(g, 1)) }) : m === 'PUT' ? ADMIN : NONE,
  ),
  row('B10', `/admin/keys/${SEG}/clients/${SEG}`, (m) =>
    m === 'DELETE' ? only({ family: 'Keys', verb: 'DeleteClient' }) : NONE,
  ),
  row('B11', `/admin-api/packages/${SEG}/versions`, (m, g) =>
    m === 'GET' ? one({ family: 'Package', verb: 'ListVersions', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B12', `/admin-api/packages/${SEG}/latest`, (m, g) =>
    m === 'GET' ? one({ family: 'Package', verb: 'GetLatestVersion', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B13', `/admin-api/namespaces/for-application/${SEG}`, (m, g) =>
    m === 'GET' ? one({ family: 'Namespace', verb: 'List', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B14', `/admin-api/namespaces/${SEG}`, (m, g) =>
    m === 'GET'
      ? one({ family: 'Namespace', verb: 'List', scope: scoped(cap(g, 1)) })
      : m === 'DELETE'
        ? one({ family: 'Namespace', verb: 'Manage', scope: scoped(cap(g, 1)) })
        : NONE,
  ),
  row('B15', `/admin-api/namespaces/${SEG}/(identity|groups)`, (m, g) =>
    m === 'GET'
      ? one({ family: 'Namespace', verb: 'List', scope: scoped(cap(g, 1)) })
      : m === 'POST' && cap(g, 2) === 'groups'
        ? GROUP_CREATE // Global, as in Rust: the namespace id does not scope group creation
        : NONE,
  ),
  row('B16', `/admin-api/namespaces/${SEG}/(invite|join|leave)`, (m, g) =>
    m === 'POST' ? one({ family: 'Namespace', verb: 'Manage', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B17', `/admin-api/groups/${SEG}(?:/.*)?`, (m, g) => {
    const grp = cap(g, 1);
    // `/admin-api/groups/join` is table A's exact route, not a group id.
    if (grp === 'join') return NONE;
    if (m === 'GET') return one({ family: 'Group', verb: 'List', scope: scoped(grp) });
    if (m === 'ANY') return NONE;
    return one({ family: 'Group', verb: 'Manage', scope: scoped(grp) });
  }),
  row('B18', `/admin-api/contexts/${SEG}/(identities|identities-owned|storage|group)`, (m, g) =>
    m === 'GET' ? one({ family: 'Context', verb: 'List', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  row('B19', `/admin-api/contexts/${SEG}/(join|leave|resync)`, (m, g) =>
    m === 'POST' ? one({ family: 'Context', verb: 'Execute', scope: scoped(cap(g, 1)), user: ANY_USER }) : NONE,
  ),
  row('B20', `/admin-api/contexts/sync/${SEG}`, (m, g) =>
    m === 'POST' ? one({ family: 'Context', verb: 'Execute', scope: scoped(cap(g, 1)), user: ANY_USER }) : NONE,
  ),
  row('B21', `/admin-api/blobs/${SEG}`, (m, g) =>
    m === 'GET'
      ? one({ family: 'Blob', verb: 'Get', scope: scoped(cap(g, 1)) })
      : m === 'DELETE'
        ? one({ family: 'Blob', verb: 'Remove', scope: scoped(cap(g, 1)) })
        : NONE,
  ),
  row('B22', `/admin-api/alias/(create|lookup|delete)/${TYPE}(?:/.*)?`, (m, g) =>
    m === 'POST' ? ALIAS[cap(g, 1) as 'create' | 'lookup' | 'delete'][cap(g, 2) as AliasType] : NONE,
  ),
  row('B23', `/admin-api/alias/list/${TYPE}(?:/.*)?`, (m, g) => (m === 'GET' ? ALIAS.list[cap(g, 1) as AliasType] : NONE)),
  row('B24', `/admin-api/applications/${SEG}/versions`, (m, g) =>
    m === 'GET' ? one({ family: 'Application', verb: 'List', scope: scoped(cap(g, 1)) }) : NONE,
  ),
  // Addition: ending one of the caller's own sessions (see table A's `/admin/sessions`).
  row('S1', `/admin/sessions/${SEG}`, () => NONE),
  // Addition (issue 13): deleting one of the caller's own passkeys.
  row('P1', `/admin/passkeys/${SEG}`, () => NONE),
];

/**
 * Every B pattern starts with one of these literals and no literal is a prefix of another, so a
 * path can match rows of one group only. Rows keep their table order inside a group, which
 * preserves "first pattern wins" (e.g. B19 before B20 for `/admin-api/contexts/sync/join`).
 */
const GROUP_PREFIXES = [
  '/admin-api/applications/',
  '/admin-api/contexts/',
  '/admin-api/packages/',
  '/admin-api/namespaces/',
  '/admin-api/groups/',
  '/admin-api/blobs/',
  '/admin-api/alias/',
  '/admin/keys/',
  '/admin/sessions/',
  '/admin/passkeys/',
  '/blobs/',
] as const;

const TABLE_B: readonly GroupB[] = GROUP_PREFIXES.map((prefix) => ({
  prefix,
  rows: ROWS.filter((r) => r.pattern.startsWith(prefix)),
}));

// Fail at load, not at request time, if a row was left out of every group.
if (TABLE_B.reduce((n, g) => n + g.rows.length, 0) !== ROWS.length) {
  throw new Error('permissions: a table B row matches no prefix group');
}

/** Table B lookup: `undefined` when no pattern matched (so table C may apply). */
function matchTableB(method: RouteMethod, path: string): RequiredPermissions | undefined {
  for (const group of TABLE_B) {
    if (!path.startsWith(group.prefix)) continue;
    for (const r of group.rows) {
      const g = r.re.exec(path);
      if (g !== null) return r.result(method, g);
    }
    return undefined;
  }
  return undefined;
}

// ── Table C (§8.4): first-segment fallback. ────────────────────────────────────────────────────

/**
 * Up to the first three non-empty segments. Only called once the first segment is known to be
 * one of the four fallback names, so `/ws`, `/sse` and `/auth/*` allocate nothing.
 */
function segments(path: string, from: number): [string, string | undefined, string | undefined] {
  const out: string[] = [];
  let i = from;
  while (out.length < 3 && i < path.length) {
    if (path.charCodeAt(i) === 0x2f) {
      i++;
      continue;
    }
    let end = path.indexOf('/', i);
    if (end === -1) end = path.length;
    out.push(path.slice(i, end));
    i = end;
  }
  return [out[0] as string, out[1], out[2]];
}

// A Map, not an object literal: `s2` is request input, and `constructor` must not resolve.
const C_BLOB_ADD = new Map<string, RequiredPermissions>([
  ['stream', only({ family: 'Blob', verb: 'Add', add: 'Stream' })],
  ['file', only({ family: 'Blob', verb: 'Add', add: 'File' })],
  ['url', only({ family: 'Blob', verb: 'Add', add: 'Url' })],
]);
const C_APPLICATION_LIST = only({ family: 'Application', verb: 'List', scope: GLOBAL });
const C_APPLICATION_INSTALL = only({ family: 'Application', verb: 'Install', scope: GLOBAL });
const C_CONTEXT_LIST = only({ family: 'Context', verb: 'List', scope: GLOBAL });
const C_CONTEXT_CREATE = only({ family: 'Context', verb: 'Create', scope: GLOBAL });
const C_KEYS: Partial<Record<RouteMethod, RequiredPermissions>> = {
  GET: only({ family: 'Keys', verb: 'List' }),
  POST: only({ family: 'Keys', verb: 'Create' }),
  DELETE: KEYS_DELETE,
};

function matchTableC(method: RouteMethod, path: string): RequiredPermissions {
  let start = 0;
  while (path.charCodeAt(start) === 0x2f) start++;
  let end = path.indexOf('/', start);
  if (end === -1) end = path.length;
  const len = end - start;
  const is = (name: string): boolean => len === name.length && path.startsWith(name, start);

  if (is('keys')) return C_KEYS[method] ?? NONE; // the rest of the path is ignored
  if (is('applications')) {
    const [, s2] = segments(path, start);
    if (method === 'GET') {
      return s2 === undefined ? C_APPLICATION_LIST : one({ family: 'Application', verb: 'List', scope: scoped(s2) });
    }
    if (method === 'POST') return C_APPLICATION_INSTALL;
    if (method === 'DELETE' && s2 !== undefined) {
      return one({ family: 'Application', verb: 'Uninstall', scope: scoped(s2) });
    }
    return NONE;
  }
  if (is('blobs')) {
    const [, s2] = segments(path, start);
    if (s2 === undefined) return NONE;
    if (method === 'POST') return C_BLOB_ADD.get(s2) ?? NONE;
    if (method === 'DELETE') return one({ family: 'Blob', verb: 'Remove', scope: scoped(s2) });
    return NONE;
  }
  if (is('contexts')) {
    const [, s2, s3] = segments(path, start);
    if (s2 === undefined) {
      return method === 'GET' ? C_CONTEXT_LIST : method === 'POST' ? C_CONTEXT_CREATE : NONE;
    }
    if (s3 === undefined) {
      if (method === 'GET') return one({ family: 'Context', verb: 'List', scope: scoped(s2) });
      if (method === 'DELETE') return one({ family: 'Context', verb: 'Delete', scope: scoped(s2) });
      return NONE;
    }
    if (method !== 'POST') return NONE;
    // Later segments are not examined: `/contexts/c/leave/x` is still a leave.
    if (s3 === 'leave') return one({ family: 'Context', verb: 'Leave', scope: scoped(s2), user: ANY_USER });
    if (s3 === 'invite') return one({ family: 'Context', verb: 'Invite', scope: scoped(s2), user: ANY_USER });
    if (s3 === 'execute') return one({ family: 'Context', verb: 'Execute', scope: scoped(s2), user: ANY_USER });
    return NONE;
  }
  return NONE;
}

// ── §8.1: the combination, with D (§8.5) as the last step. ─────────────────────────────────────

/**
 * The permissions a request needs (permissions.md §8.1). `path` is the raw path as received: no
 * percent-decoding, no query, no normalisation (§12). `method` is the raw HTTP method. An empty
 * result means "any valid token". The returned array may be shared: do not mutate it.
 */
export function determineRequiredPermissions(method: string, path: string): RequiredPermissions {
  const m = normalizeMethod(method);
  const a = TABLE_A.get(path)?.[m] ?? NONE;
  const b = matchTableB(m, path) ?? NONE;
  let result = a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
  if (result.length === 0) result = matchTableC(m, path);
  if (result.length === 0 && path.startsWith('/admin-api/')) result = ADMIN; // D: default deny
  return result;
}

/** The B row that decides `path`, for tests: which row wins when several patterns could match. */
export function tableBRowFor(path: string): string | undefined {
  for (const group of TABLE_B) {
    if (!path.startsWith(group.prefix)) continue;
    for (const r of group.rows) if (r.re.test(path)) return r.row;
    return undefined;
  }
  return undefined;
}
