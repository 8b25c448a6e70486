/**
 * The vector slab's memory and exact-scan time, int8 codes (the slab the
 * server uses) against the float32 layout it replaced (kept here, as it was,
 * for the comparison): each layout loads the same random unit vectors in a
 * process of its own (so one's memory never counts in the other's), from
 * float32 little-endian bytes as SQLite stores them, then scans random
 * subsets of the given sizes (sorted doc ids) exactly (top 10), as a confined search or the
 * backlog of a graph build does. Recall of int8 against float32 is reported
 * over the same queries on a subset. Prints JSON.
 *
 *   npm run bench:slab -- [--vectors 1000000] [--dimension 100] [--scans 2000,100000] [--queries 20]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TopK, VectorSlab, type Neighbour } from '../../src/vector/vector-slab.js';
import { describeMachine, summarize } from './stats.js';
import { seeded } from './data.js';

const OPTIONS = {
  vectors: { type: 'string', default: '1000000' },
  dimension: { type: 'string', default: '100' },
  scans: { type: 'string', default: '2000,100000' },
  queries: { type: 'string', default: '20' },
  layout: { type: 'string' },
} as const;
let flags: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
try {
  flags = parseArgs({ options: OPTIONS }).values;
} catch (error) {
  process.stderr.write(`bench:slab: ${(error as Error).message}; usage: npm run bench:slab -- [--vectors N] [--dimension N] [--scans N,N] [--queries N]\n`);
  process.exit(1);
}
const whole = (text: string): number => (/^\d+$/.test(text) ? Number(text) : NaN);
const count = whole(flags.vectors);
const dimension = whole(flags.dimension);
const scans = flags.scans.split(',').map(whole);
const queryCount = whole(flags.queries);
if (![count, dimension, queryCount, ...scans].every((n) => Number.isInteger(n) && n > 0) || scans.some((n) => n > count)) {
  process.stderr.write('bench:slab: --vectors, --dimension, --queries and --scans take whole numbers above 0, scans no larger than --vectors\n');
  process.exit(1);
}
if (flags.layout !== undefined && flags.layout !== 'float32' && flags.layout !== 'int8') {
  process.stderr.write('bench:slab: --layout is float32 or int8\n');
  process.exit(1);
}

/** The slab as it was before int8: every vector as float32 in one growable array. */
class Float32Slab {
  private data: Float32Array;
  private readonly slotOf = new Map<number, number>();
  private docAt: Float64Array;
  private used = 0;

  constructor(readonly dimension: number) {
    this.data = new Float32Array(0);
    this.docAt = new Float64Array(0);
  }

  reserve(capacity: number): void {
    const data = new Float32Array(capacity * this.dimension);
    data.set(this.data);
    this.data = data;
    const docAt = new Float64Array(capacity).fill(-1);
    docAt.set(this.docAt);
    this.docAt = docAt;
  }

  setBytes(docId: number, bytes: Uint8Array): boolean {
    if (bytes.byteLength !== this.dimension * 4) return false;
    let slot = this.slotOf.get(docId);
    if (slot === undefined) {
      slot = this.used++;
      this.slotOf.set(docId, slot);
      this.docAt[slot] = docId;
    }
    new Uint8Array(this.data.buffer, this.data.byteOffset + slot * this.dimension * 4, bytes.byteLength).set(bytes);
    return true;
  }

  search(query: Float32Array, k: number, only: Iterable<number>): Neighbour[] {
    const top = new TopK(k);
    const dim = this.dimension;
    const score = (slot: number): number => {
      const base = slot * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let i = 0;
      for (; i + 3 < dim; i += 4) {
        s0 += this.data[base + i]! * query[i]!;
        s1 += this.data[base + i + 1]! * query[i + 1]!;
        s2 += this.data[base + i + 2]! * query[i + 2]!;
        s3 += this.data[base + i + 3]! * query[i + 3]!;
      }
      for (; i < dim; i++) s0 += this.data[base + i]! * query[i]!;
      return s0 + s1 + s2 + s3;
    };
    for (const docId of only) {
      const slot = this.slotOf.get(docId);
      if (slot !== undefined) top.offer(docId, score(slot));
    }
    return top.sorted();
  }
}

function fillUnit(next: () => number, out: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < out.length; i++) {
    // Roughly Gaussian (sum of uniforms), so directions are spread over the sphere.
    const x = next() + next() + next() - 1.5;
    out[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm;
  return out;
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

function settle(): NodeJS.MemoryUsage {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage();
}

/** One layout, in this process: load, measure, scan. Prints its JSON. */
function runLayout(layout: 'float32' | 'int8'): void {
  const before = settle();
  const slab = layout === 'int8' ? new VectorSlab(dimension, 16) : new Float32Slab(dimension);
  slab.reserve(count);
  const next = seeded(1);
  // Stored bytes at an odd offset, as a row of a SQLite page may be; made a
  // batch at a time, so the load time is setBytes alone.
  const BATCH = 1000;
  const pageBytes = new Uint8Array(BATCH * dimension * 4 + 1);
  const page = new Float32Array(BATCH * dimension);
  const pageAsBytes = new Uint8Array(page.buffer);
  let loadMs = 0;
  for (let first = 1; first <= count; first += BATCH) {
    const n = Math.min(BATCH, count - first + 1);
    for (let i = 0; i < n; i++) fillUnit(next, page.subarray(i * dimension, (i + 1) * dimension));
    pageBytes.set(pageAsBytes, 1);
    const started = performance.now();
    for (let i = 0; i < n; i++) slab.setBytes(first + i, pageBytes.subarray(1 + i * dimension * 4, 1 + (i + 1) * dimension * 4));
    loadMs += performance.now() - started;
  }
  const after = settle();
  const queries = Array.from({ length: queryCount }, () => fillUnit(next, new Float32Array(dimension)));
  const scanTimes: Record<string, ReturnType<typeof summarize>> = {};
  const answers: Record<string, number[][]> = {};
  for (const size of scans) {
    const pick = seeded(size);
    // Distinct ids spread over the whole slab, sorted, as a namespace's doc ids come.
    const ids = Int32Array.from({ length: count }, (_, i) => i + 1);
    const subsets = queries.map(() => {
      for (let i = 0; i < size; i++) {
        const j = i + Math.floor(pick() * (count - i));
        [ids[i], ids[j]] = [ids[j]!, ids[i]!];
      }
      return Array.from(ids.subarray(0, size)).sort((a, b) => a - b);
    });
    for (let i = 0; i < 3; i++) slab.search(queries[i % queries.length]!, 10, subsets[i % subsets.length]!); // warm up
    const times: number[] = [];
    answers[size] = queries.map((query, q) => {
      const t = performance.now();
      const found = slab.search(query, 10, subsets[q]!);
      times.push(performance.now() - t);
      return found.map((n) => n.docId);
    });
    scanTimes[size] = summarize(times);
  }
  process.stdout.write(
    JSON.stringify({
      layout,
      set_bytes_ms: Math.round(loadMs),
      rss_mb: mb(after.rss - before.rss),
      heap_used_mb: mb(after.heapUsed - before.heapUsed),
      array_buffers_mb: mb(after.arrayBuffers - before.arrayBuffers),
      scan_ms: scanTimes,
      answers,
    }),
  );
}

interface LayoutResult {
  layout: string;
  answers: Record<string, number[][]>;
  [key: string]: unknown;
}

function measure(layout: 'float32' | 'int8'): LayoutResult {
  const script = fileURLToPath(import.meta.url);
  const args = ['--expose-gc', '--import', 'tsx', script, '--layout', layout, '--vectors', String(count), '--dimension', String(dimension), '--scans', scans.join(','), '--queries', String(queryCount)];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`the ${layout} run failed (exit ${child.status})`);
  return JSON.parse(child.stdout) as LayoutResult;
}

if (flags.layout !== undefined) {
  runLayout(flags.layout as 'float32' | 'int8');
} else {
  const float32 = measure('float32');
  const int8 = measure('int8');
  // Top 10 of each int8 scan that the float32 scan of the same subset also has.
  const recall: Record<string, number> = {};
  for (const size of scans) {
    let hits = 0, total = 0;
    float32.answers[size]!.forEach((truth, q) => {
      const found = new Set(int8.answers[size]![q]);
      hits += truth.filter((docId) => found.has(docId)).length;
      total += truth.length;
    });
    recall[size] = Math.round((hits / total) * 1000) / 1000;
  }
  const strip = ({ answers: _answers, ...rest }: LayoutResult): Omit<LayoutResult, 'answers'> => rest;
  const report = { benchmark: 'slab-memory', at: new Date().toISOString(), machine: describeMachine(), vectors: count, dimension, float32: strip(float32), int8: strip(int8), int8_recall_at_10_vs_float32: recall };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
