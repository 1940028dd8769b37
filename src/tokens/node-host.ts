import { memoize } from '../util/memo.js';
import { isVisibleAscii } from '../util/visible-ascii.js';

/**
 * The node-host binding check of wire §4.6: a token minted for one node's URL is refused by
 * another node. Pure function over the request's host headers (or the configured node_host).
 */
export interface HostSource {
  /** `jwt.node_host`; when set the headers are ignored entirely. */
  nodeHost?: string | undefined;
  /** Raw `X-Forwarded-Host` (several lines already joined with ", "), if present. */
  forwardedHost?: string | null | undefined;
  /** Raw `Host` / `:authority`, if present. */
  host?: string | null | undefined;
}

export const NO_HOST_MESSAGE =
  'Token is node-bound but the request carries no Host or X-Forwarded-Host header to validate against';

const INTERNAL_HOST = /^auth(?::[0-9]+)?$/;

function requestHost(src: HostSource): string | undefined {
  if (src.nodeHost) return src.nodeHost;
  if (src.forwardedHost !== undefined && src.forwardedHost !== null) {
    // Present but not visible ASCII → no host at all, and no fallback to Host.
    return isVisibleAscii(src.forwardedHost) ? src.forwardedHost : undefined;
  }
  return src.host ?? undefined;
}

/** The host of an absolute URL, lower-cased; undefined when it is not one or has no host. */
export function urlHost(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const host = new URL(value).hostname;
  return host === '' ? undefined : host.toLowerCase();
}

// Parsing a URL costs more than the rest of a cached validation, and a node sees few distinct
// `node_url` values (only verified tokens' claims get here).
const tokenHostOf = memoize(urlHost, 1024);

/** Returns undefined when the request may use the token, else the failure message. */
export function checkNodeHost(nodeUrl: string | undefined, src: HostSource): string | undefined {
  if (nodeUrl === undefined) return undefined;
  const host = requestHost(src);
  if (host === undefined || host.trim() === '') return NO_HOST_MESSAGE;
  if (INTERNAL_HOST.test(host)) return undefined;
  const tokenHost = tokenHostOf(nodeUrl);
  if (tokenHost === undefined) return undefined;
  const lower = host.toLowerCase();
  const colon = lower.indexOf(':');
  const withoutPort = colon === -1 ? lower : lower.slice(0, colon);
  if (lower === tokenHost || withoutPort === tokenHost) return undefined;
  return `Token is not valid for this host. Token is for '${tokenHost}' but request is to '${host}'`;
}
