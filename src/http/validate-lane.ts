import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateFromMemory } from '../auth/validate.js';
import type { AuthService } from '../service.js';
import { headerMerger } from './header-merge.js';
import type { EdgeOptions } from './middleware/edge.js';
import { memoize } from '../util/memo.js';
import { peerTrust } from './request.js';
import { allowHeaders, VALIDATE_ALLOW_BODY } from './validate-answer.js';

/** Answers a request straight from the Node listener and returns true, or returns false. */
export type NodeLane = (req: IncomingMessage, res: ServerResponse) => boolean;

const PATH = '/auth/validate';
/** pino's number for `debug`. */
const DEBUG = 20;
const JSON_TYPE = 'application/json';
const BODY_LENGTH = String(Buffer.byteLength(VALIDATE_ALLOW_BODY));
/**
 * Our own rule for a Host the lane may answer under: only the characters of a host name, an IP
 * literal and a port, and a value the WHATWG URL parser accepts with the path left as it is. For
 * such a Host, @hono/node-server builds the request URL `…/auth/validate` from it (by its fast
 * path or through `new URL`) and never refuses it, so the app would route the request here too.
 * Anything else goes the app's way. Remembered per value: a node sees a handful of Hosts.
 */
const HOST_CHARS = /^[A-Za-z0-9._\-[\]:]+$/;
const routableHost = memoize((host: string): boolean => {
  if (!HOST_CHARS.test(host) || !URL.canParse(`http://${host}${PATH}`)) return false;
  return new URL(`http://${host}${PATH}`).pathname === PATH;
}, 1024);

interface LaneHeaders {
  host?: string;
  origin?: string;
  authorization?: string;
  forwardedHost?: string;
  forwardedUri?: string;
  forwardedMethod?: string;
}

const FIELDS = new Map<string, keyof LaneHeaders>([
  ['host', 'host'],
  ['origin', 'origin'],
  ['authorization', 'authorization'],
  ['x-forwarded-host', 'forwardedHost'],
  ['x-forwarded-uri', 'forwardedUri'],
  ['x-forwarded-method', 'forwardedMethod'],
]);
const NAME_LENGTHS = new Set([...FIELDS.keys()].map((n) => n.length));

/**
 * The headers validation reads, from the raw list in one pass; undefined when the request is not
 * the lane's: it frames a body (the app applies the body limit), or one of these headers comes
 * more than once (the app's joining rules then decide what the value is). The values are the
 * app's as they are: Node's parser already strips the spaces and tabs around them, and the
 * listener (src/server.ts) parses every line and admits at most 100, so rawHeaders and the
 * headers object the app reads list the same fields.
 */
function readHeaders(raw: readonly string[]): LaneHeaders | undefined {
  const found: LaneHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const n = name.length;
    if (n === 14 || n === 17) {
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'transfer-encoding') return undefined;
    }
    if (!NAME_LENGTHS.has(n)) continue;
    const field = FIELDS.get(name.toLowerCase());
    if (field === undefined) continue;
    if (found[field] !== undefined) return undefined;
    found[field] = raw[i + 1] as string;
  }
  return found;
}

/**
 * The forward-auth hot path, served before the Hono app: a `GET /auth/validate` whose token, key
 * and session are all in memory and that passes every check gets its 200 here, with what the app
 * would send: the same status, header values, body and counters (one spelling differs: Node
 * appends the app's `Content-Length` after its own headers; here it comes lower-case among
 * ours, and header names are case-insensitive). Everything else — a cache miss, any
 * refusal, a preflight, a body, an unusual Host, a repeated header, another method — returns
 * false and goes to the app, which gives every answer, including the exact error. So this lane
 * can only ever say "allow" where the app says "allow".
 */
export function validateLane(svc: AuthService, edge: EdgeOptions): NodeLane {
  const { core } = svc;
  const nodeHost = core.config.jwt.node_host;
  const enforce = core.config.forward_auth.enforce_permissions;
  const trusts = peerTrust(core.config.server.trusted_proxies);
  const security = edge.security(PATH);
  const merge = headerMerger();
  const { observe } = edge;
  // One flat header list per (identity headers, base headers) pair: both are shared objects.
  const answers = new WeakMap<object, WeakMap<object, readonly string[]>>();

  const answerHeaders = (allow: Readonly<Record<string, string>>, base: Readonly<Record<string, string>>) => {
    let row = answers.get(allow);
    if (row === undefined) answers.set(allow, (row = new WeakMap()));
    let list = row.get(base);
    if (list === undefined) {
      // The app's order (content type, identity, then the base headers that win over both).
      const all: Record<string, string> = { 'content-type': JSON_TYPE, ...allow, ...base, 'content-length': BODY_LENGTH };
      row.set(base, (list = Object.freeze(Object.entries(all).flat())));
    }
    return list;
  };

  /** The answer's header list when the lane may answer, else undefined. */
  const decide = (req: IncomingMessage): readonly string[] | undefined => {
    const h = readHeaders(req.rawHeaders);
    if (h === undefined || h.host === undefined || !routableHost(h.host)) return undefined;
    // Forwarded headers count only from a trusted proxy (request.ts forwardedHeaders).
    if (!trusts(req.socket.remoteAddress)) h.forwardedHost = h.forwardedUri = h.forwardedMethod = undefined;
    const auth = validateFromMemory(core, {
      authorization: h.authorization,
      host: { nodeHost, forwardedHost: h.forwardedHost, host: h.host },
      forwardedUri: h.forwardedUri,
      forwardedMethod: h.forwardedMethod,
      enforce,
    });
    if (auth === undefined) return undefined;
    return answerHeaders(allowHeaders(auth.claims), merge(security, edge.cors.actualHeaders(h.origin)));
  };

  return (req, res) => {
    // Decision logs (-v) and request logs (-vv) are written by the app: the lane steps aside.
    if (req.method !== 'GET' || req.url !== PATH || core.log.levelVal <= DEBUG) return false;
    const started = observe === undefined ? 0 : performance.now();
    let headers: readonly string[] | undefined;
    try {
      headers = decide(req);
    } catch {
      // Whatever went wrong (a damaged record, say), the app answers it, as a 500 at worst:
      // a throw here would escape the request listener and end the process.
      headers = undefined;
    }
    if (headers === undefined) return false;
    core.metrics.validate('allow');
    res.writeHead(200, headers as string[]);
    res.end(VALIDATE_ALLOW_BODY);
    observe?.('GET', PATH, 200, (performance.now() - started) / 1000);
    return true;
  };
}
