/**
 * The drift guard of the OpenAPI document (issue 12 item 2): every response an HTTP test receives
 * for a path under /auth/ or /admin/ is checked against src/http/openapi/document.ts. The request
 * helper (service.ts) calls it, so any status, header or body the document does not describe
 * fails the test that provoked it. Nothing is skipped: a path, method or status missing from the
 * document is an error, and so is a body that does not match its schema.
 *
 * Lookup, as the document's description says: a CORS preflight → `x-cors-preflight`; a raw path
 * that matches no path template → `x-unmatched-paths`; a method the path item does not list →
 * its `x-other-methods`; otherwise the operation's responses.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { openApiDocument } from '../../src/http/openapi/document.js';
import { rawPathOf } from '../../src/http/request.js';

// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;

type Json = Record<string, any>;

const DOC_ID = 'urn:mero-auth:openapi';
/** The methods a path item can list; any other (PROPFIND, a lower-case `patch`) is an "other method". */
const OPERATIONS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE']);
/** What fetch's Request upper-cases (RFC 9110 keeps methods case-sensitive; PATCH is not among them). */
const NORMALISED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/** A `.` or `..` segment, also percent-encoded, as src/http/middleware/edge.ts reads them. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=\/|$)/i;

interface Template {
  path: string;
  re: RegExp;
  params: number;
}

let state: { doc: Json; ajv: Ajv2020; templates: Template[]; validators: Map<string, ValidateFunction> } | undefined;

function setup() {
  if (state) return state;
  const doc = openApiDocument() as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, DOC_ID, undefined, false);
  const templates = Object.keys(doc.paths as Json).map((path) => template(path, doc.paths[path] as Json));
  // Static segments win (wire §1.2): fewer parameters first, then the longer template.
  templates.sort((a, b) => a.params - b.params || b.path.length - a.path.length);
  state = { doc, ajv, templates, validators: new Map() };
  return state;
}

/** A path template as a regex on the raw path; a parameter whose schema says so may span slashes. */
function template(path: string, item: Json): Template {
  const spanning = new Set<string>();
  for (const op of Object.values(item)) {
    for (const p of (op as Json)?.parameters ?? []) {
      if (p.in === 'path' && p.schema?.['x-matches-slashes'] === true) spanning.add(p.name);
    }
  }
  let params = 0;
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{(.+)\}$/.exec(part);
      if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params++;
      return spanning.has(m[1] as string) ? '.+' : '[^/]+';
    })
    .join('');
  return { path, re: new RegExp(`^${source}$`), params };
}

const escapePointer = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));

function validator(pointer: string): ValidateFunction {
  const s = setup();
  let v = s.validators.get(pointer);
  if (v === undefined) {
    v = s.ajv.getSchema(`${DOC_ID}#${pointer}`);
    if (v === undefined) throw new Error(`OpenAPI: no schema at ${pointer}`);
    s.validators.set(pointer, v);
  }
  return v;
}

/** Follows a `$ref` inside the document; returns the object and its JSON pointer. */
function resolve(obj: Json, pointer: string): [Json, string] {
  if (typeof obj.$ref !== 'string') return [obj, pointer];
  const target = (obj.$ref as string).replace(/^#/, '');
  let cur: any = setup().doc;
  for (const seg of target.split('/').slice(1)) cur = cur?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (cur === undefined) throw new Error(`OpenAPI: dangling $ref ${obj.$ref}`);
  return [cur as Json, target];
}

export interface CheckedRequest {
  method: string;
  url: string;
  headers: Headers;
}

/**
 * Throws when `res` is not what the document says `req` can get. Reads the body from a clone,
 * so the caller can still read it.
 */
export async function checkAgainstOpenApi(req: CheckedRequest, res: Response): Promise<void> {
  const path = rawPathOf(req.url);
  if (!path.startsWith('/auth/') && !path.startsWith('/admin/')) return;
  const { doc, templates } = setup();
  const upper = req.method.toUpperCase();
  const method = NORMALISED.has(upper) ? upper : req.method;
  const what = `${method} ${path} → ${res.status}`;

  let responses: Json;
  let pointer: string;
  // A dot segment names no route (wire §1.2, docs/compatibility.md), whatever it would resolve to.
  const tpl = DOT_SEGMENT.test(path) ? undefined : templates.find((t) => t.re.test(path));
  if (method === 'OPTIONS' && req.headers.has('access-control-request-method')) {
    [responses, pointer] = [doc['x-cors-preflight'], '/x-cors-preflight'];
  } else if (tpl === undefined) {
    [responses, pointer] = [doc['x-unmatched-paths'], '/x-unmatched-paths'];
  } else {
    const item = doc.paths[tpl.path] as Json;
    const base = `/paths/${escapePointer(tpl.path)}`;
    const op = OPERATIONS.has(method) ? (item[method.toLowerCase()] as Json | undefined) : undefined;
    [responses, pointer] = op
      ? [op.responses, `${base}/${method.toLowerCase()}/responses`]
      : [item['x-other-methods'], `${base}/x-other-methods`];
  }
  const documented = responses?.[String(res.status)] as Json | undefined;
  if (documented === undefined) {
    throw new Error(`OpenAPI drift: ${what} is not documented (${pointer} lists ${Object.keys(responses ?? {}).join(', ')})`);
  }
  const [response, at] = resolve(documented, `${pointer}/${res.status}`);
  const problems = await problemsOf(method, response, at, res);
  if (problems.length > 0) throw new Error(`OpenAPI drift: ${what} (${at}): ${problems.join('; ')}`);
}

async function problemsOf(method: string, response: Json, at: string, res: Response): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, h] of Object.entries((response.headers ?? {}) as Json)) {
    const value = res.headers.get(name);
    if (value === null) {
      if (h.required === true) problems.push(`header ${name} missing`);
      continue;
    }
    const v = validator(`${at}/headers/${escapePointer(name)}/schema`);
    if (!v(value)) problems.push(`header ${name}: ${JSON.stringify(value)} ${errorsOf(v)}`);
  }

  const type = res.headers.get('content-type');
  const body = await res.clone().text();
  const content = response.content as Json | undefined;
  if (type === null && body === '') {
    if (content !== undefined && response['x-empty-body'] !== true) problems.push('empty body where a body is documented');
    return problems;
  }
  if (content === undefined) {
    problems.push(`documented as empty, got ${type ?? 'no Content-Type'} ${JSON.stringify(body.slice(0, 200))}`);
    return problems;
  }
  const essence = (t: string) => (t.split(';')[0] as string).trim().toLowerCase();
  const media = type === null ? undefined : Object.keys(content).find((k) => essence(k) === essence(type));
  if (media === undefined) {
    problems.push(`Content-Type ${type} is not documented (${Object.keys(content).join(', ')})`);
    return problems;
  }
  if (method === 'HEAD') {
    if (body !== '') problems.push('a HEAD answer with a body');
    return problems;
  }
  if (content[media].schema === undefined) return problems;
  let value: unknown = body;
  if (essence(media) === 'application/json') {
    try {
      value = JSON.parse(body);
    } catch {
      problems.push(`body is not JSON: ${JSON.stringify(body.slice(0, 200))}`);
      return problems;
    }
  }
  const v = validator(`${at}/content/${escapePointer(media)}/schema`);
  if (!v(value)) problems.push(`body ${JSON.stringify(value).slice(0, 300)} ${errorsOf(v)}`);
  return problems;
}

const errorsOf = (v: ValidateFunction) =>
  (v.errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`)
    .join(', ');
