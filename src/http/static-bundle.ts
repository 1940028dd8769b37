/**
 * The bundled login page (wire §3.1), read once into memory: `index.html`, `favicon.ico` and
 * the files under `assets/`. A request is answered from this manifest by exact name, never by
 * joining its path onto a directory, so no encoding trick (`..`, `%2e%2e`, `%2f`, `%5c`, `//`,
 * NUL) can reach another file: such names are not in the manifest.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BundleFile {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** A manifest name segment: no leading dot (so no `.`, `..` or hidden files), no `%`, `\`, NUL. */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_DEPTH = 4;
const HEAD = '<head>';

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const copy = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

export class StaticBundle {
  private constructor(
    private readonly index: string | undefined,
    private readonly favicon: BundleFile | undefined,
    private readonly assets: ReadonlyMap<string, BundleFile>,
  ) {}

  /**
   * From file names relative to the bundle root (`index.html`, `favicon.ico`,
   * `assets/<name>`); anything else, or a name with an unsafe segment, is left out.
   */
  static fromFiles(files: Iterable<readonly [string, Uint8Array | string]>): StaticBundle {
    const enc = new TextEncoder();
    let index: string | undefined;
    let favicon: BundleFile | undefined;
    const assets = new Map<string, BundleFile>();
    for (const [name, content] of files) {
      const body = typeof content === 'string' ? enc.encode(content) : copy(content);
      if (name === 'index.html') index = new TextDecoder().decode(body);
      else if (name === 'favicon.ico') favicon = { body, contentType: 'image/x-icon' };
      else if (name.startsWith('assets/')) {
        const rest = name.slice('assets/'.length);
        const segments = rest.split('/');
        if (segments.length <= MAX_DEPTH && segments.every((s) => SEGMENT.test(s))) {
          assets.set(rest, { body, contentType: contentTypeFor(rest) });
        }
      }
    }
    // The server inserts its one change right after `<head>` (wire §3.1): without one, the
    // page cannot learn the callback allowlist, so it is treated as not built.
    if (index !== undefined && !index.includes(HEAD)) index = undefined;
    return new StaticBundle(index, favicon, assets);
  }

  /** Reads a built bundle directory; a missing directory gives the empty bundle. */
  static load(dir: string): StaticBundle {
    const files: Array<[string, Uint8Array]> = [];
    const readRegular = (rel: string) => {
      const path = join(dir, ...rel.split('/'));
      try {
        // Only regular files: a symlink in the bundle must not pull in a file from elsewhere.
        if (lstatSync(path).isFile()) files.push([rel, readFileSync(path)]);
      } catch {
        // absent
      }
    };
    readRegular('index.html');
    readRegular('favicon.ico');
    const walk = (rel: string, depth: number) => {
      let entries;
      try {
        entries = readdirSync(join(dir, ...rel.split('/')), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (!SEGMENT.test(e.name)) continue;
        const child = `${rel}/${e.name}`;
        if (e.isDirectory() && depth < MAX_DEPTH) walk(child, depth + 1);
        else if (e.isFile()) readRegular(child);
      }
    };
    walk('assets', 1);
    return StaticBundle.fromFiles(files);
  }

  /** True when the bundle has its page. */
  get built(): boolean {
    return this.index !== undefined;
  }

  /** The asset names (`assets/` not included), sorted. */
  assetNames(): string[] {
    return [...this.assets.keys()].sort();
  }

  /**
   * `index.html` with `<meta name="mero-auth-callback-origins" content="…">` right after its
   * first `<head>`: how the page learns `frontend.allowed_callback_origins` without an inline
   * script or another route. Undefined when there is no bundle.
   */
  loginPage(callbackOrigins: readonly string[]): string | undefined {
    if (this.index === undefined) return undefined;
    const meta = `<meta name="mero-auth-callback-origins" content="${escapeAttr(callbackOrigins.join(' '))}">`;
    const at = this.index.indexOf(HEAD) + HEAD.length;
    return this.index.slice(0, at) + meta + this.index.slice(at);
  }

  /** The asset at `name` (the raw, undecoded path after `/auth/assets/`), by exact name. */
  asset(name: string): BundleFile | undefined {
    return this.assets.get(name);
  }

  faviconFile(): BundleFile | undefined {
    return this.favicon;
  }
}

const ASSET_PREFIX = '/auth/assets/';

/**
 * The raw path after `/auth/assets/` of a request URL, as sent (percent-encoding intact, query
 * and fragment cut): the router matched a decoded path, but the manifest is looked up by the
 * undecoded one, so `%2e%2e`, `%2f` or `%5c` never turn into a separator or a parent step.
 */
export function rawAssetName(requestUrl: string): string | undefined {
  const schemeEnd = requestUrl.indexOf('://');
  const start = requestUrl.indexOf('/', schemeEnd === -1 ? 0 : schemeEnd + 3);
  if (start === -1) return undefined;
  let end = requestUrl.length;
  for (const mark of ['?', '#']) {
    const i = requestUrl.indexOf(mark, start);
    if (i !== -1 && i < end) end = i;
  }
  const path = requestUrl.slice(start, end);
  return path.startsWith(ASSET_PREFIX) ? path.slice(ASSET_PREFIX.length) : undefined;
}

/**
 * Where the login bundle is read from: `MERO_AUTH_FRONTEND_DIR` when set, else the package's
 * `dist/frontend`. This module sits at `<package>/src/http/` when run from source and at
 * `<package>/dist/http/` when built, so `../../dist/frontend` is the same place from both.
 */
export function defaultBundleDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.MERO_AUTH_FRONTEND_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return fileURLToPath(new URL('../../dist/frontend/', import.meta.url));
}

const loaded = new Map<string, StaticBundle>();

/** The bundle in `dir` (default: defaultBundleDir()), read from disk once per process. */
export function bundleFrom(dir: string = defaultBundleDir()): StaticBundle {
  let bundle = loaded.get(dir);
  if (bundle === undefined) loaded.set(dir, (bundle = StaticBundle.load(dir)));
  return bundle;
}
