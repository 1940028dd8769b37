/**
 * The permissions a sign-in request asks for, in plain language (grammar: permissions.md §2).
 * Pure functions: no DOM.
 */

/** What each `mode` needs, put first as the Rust login frontend does. */
const MODE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  admin: ['admin'],
  'single-context': ['context:execute'],
  'multi-context': ['context:list', 'context:create', 'context:execute'],
};

/**
 * Splits a comma list, keeping commas inside brackets (`context:execute[ctx,id],blob:get`),
 * trimming entries, dropping empty ones and repeats.
 */
export function splitPermissions(raw: string | null): string[] {
  const out: string[] = [];
  if (raw === null) return out;
  let depth = 0;
  let current = '';
  const flush = () => {
    const p = current.trim();
    if (p !== '' && !out.includes(p)) out.push(p);
    current = '';
  };
  for (const ch of raw) {
    if (ch === '[') depth++;
    else if (ch === ']' && depth > 0) depth--;
    if (ch === ',' && depth === 0) flush();
    else current += ch;
  }
  flush();
  return out;
}

/** The list the page asks the node for: the mode's own permissions, then the requested ones. */
export function requestedPermissions(mode: string | null, raw: string | null): string[] {
  const out = [...(MODE_PERMISSIONS[mode ?? ''] ?? [])];
  for (const p of splitPermissions(raw)) if (!out.includes(p)) out.push(p);
  return out;
}

export interface DescribedPermission {
  /** The string as requested. */
  raw: string;
  /** Plain-language meaning. */
  text: string;
  /** What the bracket part limits it to, in words (empty when unscoped). */
  scope: string;
  /** Broad or destructive: shown with a "High risk" mark. */
  high: boolean;
  /** False when the string matches no permission the node knows. */
  known: boolean;
}

type Entry = [text: string, high: boolean];

const TABLE: Readonly<Record<string, Entry>> = {
  application: ['Install, remove and list applications', true],
  'application:list': ['See which applications are installed', false],
  'application:install': ['Install applications', true],
  'application:uninstall': ['Remove applications', true],
  package: ['Look up packages in the registry', false],
  'package:list-packages': ['List packages', false],
  'package:list-versions': ['List the versions of a package', false],
  'package:get-latest-version': ['Look up the latest version of a package', false],
  blob: ['Upload, read, list and delete stored files (blobs)', true],
  'blob:add': ['Upload files (blobs)', false],
  'blob:add:stream': ['Upload files (blobs) from a stream', false],
  'blob:add:file': ['Upload files (blobs) from a file', false],
  'blob:add:url': ['Upload files (blobs) from a URL', false],
  'blob:remove': ['Delete stored files (blobs)', true],
  'blob:list': ['List stored files (blobs)', false],
  'blob:get': ['Read stored files (blobs)', false],
  namespace: ['Create, list and manage namespaces', true],
  'namespace:create': ['Create namespaces', false],
  'namespace:list': ['List namespaces', false],
  'namespace:manage': ['Manage namespaces', true],
  group: ['Create, list and manage groups', true],
  'group:create': ['Create groups', false],
  'group:list': ['List groups', false],
  'group:manage': ['Manage groups', true],
  context: ['Be tied to a context', false],
  'context:create': ['Create contexts', false],
  'context:list': ['List contexts', false],
  'context:delete': ['Delete contexts', true],
  'context:leave': ['Leave contexts', false],
  'context:invite': ['Invite members to contexts', false],
  'context:execute': ['Call methods in contexts', false],
  'context:capabilities:grant': ['Grant capabilities to context members', true],
  'context:capabilities:revoke': ['Revoke capabilities of context members', true],
  'context:application:update': ['Change the application a context runs', true],
  'context:alias': ['Create, look up and delete context aliases', false],
  keys: ['Manage every access key and account on this node', true],
  'keys:create': ['Create access keys', true],
  'keys:list': ['List access keys', false],
  'keys:delete': ['Revoke access keys', true],
  'keys:revoke': ['Revoke access keys', true],
  'keys:clients': ['List the keys given to apps', false],
  'keys:clients:list': ['List the keys given to apps', false],
  'keys:clients:delete': ['Revoke the keys given to apps', true],
  'keys:permissions': ['Read the permissions of access keys', false],
  'keys:permissions:get': ['Read the permissions of access keys', false],
  'keys:permissions:update': ['Change the permissions of access keys', true],
};

/** The variants whose third segment means something (permissions.md §2.2). */
const READS_SUB = new Set([
  'blob:add',
  'context:capabilities',
  'context:application',
  'context:alias',
  'keys:clients',
  'keys:permissions',
]);

const ALIAS_VERBS: Readonly<Record<string, string>> = { create: 'Create', list: 'List', lookup: 'Look up', delete: 'Delete' };
const ALIAS_TYPES = new Set(['context', 'application', 'identity']);

/** The bracket part in words: `[ctx,user,method]` (permissions.md §2.1: first `[` to first `]`). */
function scopeOf(raw: string, family: string): string {
  const open = raw.indexOf('[');
  if (open === -1) return '';
  const close = raw.indexOf(']', open);
  if (close === -1) return '';
  const [id = '', user = '', method = ''] = raw
    .slice(open + 1, close)
    .split(',')
    .map((s) => s.trim());
  const parts: string[] = [];
  if (id) parts.push(family === 'context' ? `context ${id}` : family === 'keys' ? `key ${id}` : `${id} only`);
  if (user) parts.push(`as ${user}`);
  if (method) parts.push(`method ${method}`);
  return parts.join(', ');
}

export function describePermission(raw: string): DescribedPermission {
  const open = raw.indexOf('[');
  const main = open === -1 ? raw : raw.slice(0, open);
  const segments = main.split(':');
  const family = segments[0] ?? '';
  if (family === 'admin') {
    return {
      raw,
      text: 'Full control of this node: every action, including accounts and keys',
      scope: '',
      high: true,
      known: true,
    };
  }
  // An empty action is the bare family (`context:` = `context`); a sub-action counts only for
  // the variants that read one (`keys:create:x` = `keys:create`, `keys:clients:x` is unknown).
  const action = segments[1] ?? '';
  const sub = segments[2] ?? '';
  const pair = `${family}:${action}`;
  let entry: Entry | undefined =
    action === '' ? TABLE[family] : READS_SUB.has(pair) ? TABLE[sub === '' ? pair : `${pair}:${sub}`] : TABLE[pair];
  if (pair === 'context:alias' && sub !== '') {
    const verb = ALIAS_VERBS[sub];
    const type = segments[3] ?? '';
    entry = verb && ALIAS_TYPES.has(type) ? [`${verb} ${type} aliases in contexts`, false] : undefined;
  }
  if (!entry) return { raw, text: 'A permission this page does not recognise', scope: '', high: false, known: false };
  return { raw, text: entry[0], scope: scopeOf(raw, family), high: entry[1], known: true };
}
