/** A sample as scraped: its name, labels and value. */
export interface ScrapedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: ScrapedSample[];
  /** The value of the one sample with this name and these labels (at least), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** The sum of every sample with this name and these labels (at least). */
  sum(name: string, labels?: Record<string, string>): number;
}

const SUFFIXES = ['_bucket', '_sum', '_count'];

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!name) throw new Error(`bad label in: ${line}`);
    i += name[0].length;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      i += 1;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i];
        i += 1;
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape in: ${line}`);
      } else if (c === '\n') throw new Error(`raw line feed in a label value: ${line}`);
      else value += c;
    }
    if (name[1]! in labels) throw new Error(`label ${name[1]} twice in: ${line}`);
    labels[name[1]!] = value;
    if (text[i] === ',') i += 1;
    else if (i < text.length) throw new Error(`expected , between labels in: ${line}`);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value in: ${line}`);
  return Number(text);
}

/**
 * A strict reader of the Prometheus text format (0.0.4) for tests: throws on
 * anything malformed, on a sample whose family has no TYPE line before it, and
 * on histograms whose buckets are not cumulative or disagree with their count.
 */
export function parsePrometheusText(body: string): Scrape {
  if (!body.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: ScrapedSample[] = [];
  for (const line of body.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type in: ${line}`);
        if (types.has(name)) throw new Error(`TYPE twice for ${name}`);
        types.set(name, rest);
      } else help.set(name, rest);
      continue;
    }
    if (line.startsWith('#') || line === '') continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`bad sample line: ${line}`);
    const name = sample[1]!;
    const family = types.has(name) ? name : SUFFIXES.map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : '')).find((f) => f && types.get(f) === 'histogram');
    if (!family) throw new Error(`sample ${name} has no TYPE line before it`);
    samples.push({ name, labels: parseLabels(sample[2] ?? '', line), value: parseValue(sample[3]!, line) });
  }
  const matches = (s: ScrapedSample, name: string, labels: Record<string, string>) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  const scrape: Scrape = {
    types,
    help,
    samples,
    value(name, labels = {}) {
      const found = samples.filter((s) => matches(s, name, labels));
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
    sum: (name, labels = {}) => samples.filter((s) => matches(s, name, labels)).reduce((total, s) => total + s.value, 0),
  };
  for (const [name, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, ScrapedSample[]>();
    for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      const values = buckets.map((b) => b.value);
      if (values.some((v, i) => i > 0 && v < values[i - 1]!)) throw new Error(`${name}${key}: buckets are not cumulative`);
      if (buckets.at(-1)?.labels.le !== '+Inf') throw new Error(`${name}${key}: no +Inf bucket last`);
      const count = samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key)?.value;
      if (count !== values.at(-1)) throw new Error(`${name}${key}: +Inf bucket ${values.at(-1)} is not the count ${count}`);
    }
  }
  return scrape;
}
