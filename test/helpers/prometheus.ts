/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line is a HELP/TYPE
 * comment or a sample of a declared family; label values are unescaped. Throws on anything else.
 */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export interface Exposition {
  types: Map<string, string>;
  /** `name{a="x",b="y"}` (labels in the order written) → value. */
  samples: Map<string, number>;
}

function parseValue(raw: string, where: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) throw new Error(`${where}: bad value ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Parses `{a="x",b="y"}` starting at `text[0] === '{'`; returns the labels and the rest. */
function parseLabels(text: string, where: string): { labels: Array<[string, string]>; rest: string } {
  const labels: Array<[string, string]> = [];
  let i = 1;
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  while (i < text.length && text[i] !== '}') {
    const eq = text.indexOf('=', i);
    if (eq < 0) fail('label without =');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`);
    if (labels.some(([n]) => n === name)) fail(`repeated label ${name}`);
    if (text[eq + 1] !== '"') fail('label value not quoted');
    let value = '';
    let j = eq + 2;
    for (;;) {
      const ch = text[j];
      if (ch === undefined) fail('unterminated label value');
      if (ch === '"') break;
      if (ch === '\\') {
        const next = text[j + 1];
        if (next === '\\' || next === '"') value += next;
        else if (next === 'n') value += '\n';
        else fail(`bad escape \\${next ?? ''}`);
        j += 2;
      } else {
        value += ch;
        j += 1;
      }
    }
    labels.push([name, value]);
    i = j + 1;
    if (text[i] === ',') i += 1;
    else if (text[i] !== '}') fail('expected , or } after a label');
  }
  if (text[i] !== '}') fail('unterminated label set');
  return { labels, rest: text.slice(i + 1) };
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('exposition text must end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const sampled = new Set<string>();
  const samples = new Map<string, number>();
  const familyOf = (name: string): string | undefined => {
    if (types.has(name)) return name;
    const m = /^(.*)_(bucket|sum|count)$/.exec(name);
    const base = m?.[1];
    if (base !== undefined && (types.get(base) === 'histogram' || (m?.[2] !== 'bucket' && types.get(base) === 'summary'))) {
      return base;
    }
    return undefined;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1} ${JSON.stringify(line)}`;
      if (line === '') return;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
        if (!m) throw new Error(`${where}: a comment that is neither # HELP nor # TYPE`);
        const [, kind, name = '', rest = ''] = m;
        if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
        if (kind === 'HELP') {
          if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
          helps.add(name);
        } else {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
          if (types.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
          if (sampled.has(name)) throw new Error(`${where}: TYPE after samples of ${name}`);
          types.set(name, rest);
        }
        return;
      }
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
      if (name === undefined) throw new Error(`${where}: not a sample`);
      let rest = line.slice(name.length);
      let labels: Array<[string, string]> = [];
      if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
      const parts = /^ (\S+)( -?\d+)?$/.exec(rest);
      if (!parts) throw new Error(`${where}: expected " <value> [timestamp]" after the name and labels`);
      const family = familyOf(name);
      if (family === undefined) throw new Error(`${where}: sample of an undeclared family`);
      sampled.add(family);
      const key = `${name}${labels.length > 0 ? `{${labels.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(',')}}` : ''}`;
      if (samples.has(key)) throw new Error(`${where}: repeated sample ${key}`);
      samples.set(key, parseValue(parts[1] as string, where));
    });
  return { types, samples };
}
