/**
 * The permissions a sign-in request asks for, in plain language (grammar: permissions.md §2).
 * Pure functions: no DOM.
 */
import { has, t, type MessageKey } from './i18n.js';

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

/** Each known permission name and whether it is high risk; its text is the i18n entry of that name. */
const TABLE: Readonly<Record<string, boolean>> = {
  application: true,
  'application:list': false,
  'application:install': true,
  'application:uninstall': true,
  package: false,
  'package:list-packages': false,
  'package:list-versions': false,
  'package:get-latest-version': false,
  blob: true,
  'blob:add': false,
  'blob:add:stream': false,
  'blob:add:file': false,
  'blob:add:url': false,
  'blob:remove': true,
  'blob:list': false,
  'blob:get': false,
  namespace: true,
  'namespace:create': false,
  'namespace:list': false,
  'namespace:manage': true,
  group: true,
  'group:create': false,
  'group:list': false,
  'group:manage': true,
  context: false,
  'context:create': false,
  'context:list': false,
  'context:delete': true,
  'context:leave': false,
  'context:invite': false,
  'context:execute': false,
  'context:capabilities:grant': true,
  'context:capabilities:revoke': true,
  'context:application:update': true,
  'context:alias': false,
  keys: true,
  'keys:create': true,
  'keys:list': false,
  'keys:delete': true,
  'keys:revoke': true,
  'keys:clients': false,
  'keys:clients:list': false,
  'keys:clients:delete': true,
  'keys:permissions': false,
  'keys:permissions:get': false,
  'keys:permissions:update': true,
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

const ALIAS_VERBS: Readonly<Record<string, MessageKey>> = {
  create: 'perm.alias.create',
  list: 'perm.alias.list',
  lookup: 'perm.alias.lookup',
  delete: 'perm.alias.delete',
};
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
  if (id) parts.push(t(family === 'context' ? 'scope.context' : family === 'keys' ? 'scope.key' : 'scope.only', { id }));
  if (user) parts.push(t('scope.as', { user }));
  if (method) parts.push(t('scope.method', { method }));
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
      text: t('perm.admin'),
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
  const name = action === '' ? family : READS_SUB.has(pair) ? (sub === '' ? pair : `${pair}:${sub}`) : pair;
  let entry: [text: string, high: boolean] | undefined =
    Object.hasOwn(TABLE, name) && has(name) ? [t(name), TABLE[name] === true] : undefined;
  if (pair === 'context:alias' && sub !== '') {
    const verb = Object.hasOwn(ALIAS_VERBS, sub) ? ALIAS_VERBS[sub] : undefined;
    const type = segments[3] ?? '';
    entry = verb && ALIAS_TYPES.has(type) ? [t('perm.alias', { verb: t(verb), type }), false] : undefined;
  }
  if (!entry) return { raw, text: t('perm.unknown'), scope: '', high: false, known: false };
  return { raw, text: entry[0], scope: scopeOf(raw, family), high: entry[1], known: true };
}
