/**
 * Side-by-side benchmark: Pinak next to the official MCP memory server,
 * `@modelcontextprotocol/server-memory` (pinned devDependency). Both are
 * spawned over stdio and driven with the SDK client on a temp directory, one
 * server at a time, and every tool call is timed client-side.
 *
 *   npm run bench:compare -- [--100k] [--queries 200] [--out bench/results]
 *
 * Method, per size (1,000 and 10,000; also 100,000 with --100k):
 * - Bulk load: the same generated memories (data.ts `memories(size)`) in
 *   batches of 100. Pinak: `remember`. server-memory: `create_entities`, one
 *   entity per memory (name `m<i>`, entityType its kind, observations [its
 *   content]). Pinak's rate counts until the batches are acknowledged; it then
 *   finishes embedding and indexing in the background before anything else is
 *   measured (`seconds_until_indexed`).
 * - Single writes: the same 200 further memories (seed 99), one call each.
 *   Pinak: `remember` one memory. server-memory: `create_entities` one entity.
 * - Search: the same queries (data.ts `queries`), after 10 warm-up calls,
 *   twice: the reported pass is the second, as a server that has been
 *   answering for a while sees (the first, right after the bulk load, reads
 *   Pinak's pages back from disk; its p50 is reported as `first_pass_p50`).
 *   server-memory: `search_nodes`. Pinak: `search_memory` over all namespaces
 *   ("*"), limit 10, in hybrid mode and, separately, keyword mode.
 * Reported: p50/p95/p99 per call, the bulk load rate, how many results the
 * searches returned, and how many times faster Pinak is (server-memory p50 /
 * Pinak p50) for search and single writes.
 *
 * The two searches do different work: search_nodes returns every entity whose
 * name, type or an observation contains the whole query as one substring
 * (unranked, unlimited); Pinak returns the 10 best-ranked hits for the query's
 * words. The hit counts are in the report so a reader can see the difference.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildIfStale, ROOT } from '../lib/build.js';
import { memories, queries, type BenchMemory } from './data.js';
import { call, load, log, startServer, startStdioServer, waitForIndex, type Result, type Server } from './servers.js';
import { describeMachine, summarize, timed } from './stats.js';

const SERVER_MEMORY = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-memory/dist/index.js');
const BATCH = 100;
const WARM_UP = 10;
const SINGLE_WRITES = 200;

type Latency = ReturnType<typeof summarize>;
interface SearchResult extends Latency {
  /** Mean number of results per query, and how many queries returned at least one. */
  hits: { mean: number; queries_with_hits: number };
  /** p50 of the same queries the first time, right after loading. */
  first_pass_p50: number;
}
interface Entity {
  name: string;
  entityType: string;
  observations: string[];
}

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

function toEntity(memory: BenchMemory, name: string): Entity {
  return { name, entityType: memory.kind, observations: [memory.content] };
}

function startServerMemory(file: string): Promise<Server> {
  return startStdioServer(SERVER_MEMORY, [], { MEMORY_FILE_PATH: file });
}

/** Send items in batches of 100; the rate counts until the last batch is acknowledged. */
async function loadInBatches<T>(items: Iterable<T>, total: number, send: (batch: T[]) => Promise<unknown>): Promise<Result> {
  const started = performance.now();
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === BATCH) {
      await send(batch);
      batch = [];
    }
  }
  if (batch.length) await send(batch);
  const seconds = (performance.now() - started) / 1000;
  return { memories_per_s: Math.round(total / seconds), seconds: round(seconds) };
}

/** One call per item, timed. */
async function writeLatencies<T>(items: readonly T[], write: (item: T) => Promise<unknown>): Promise<Latency> {
  const ms: number[] = [];
  for (const item of items) ms.push((await timed(() => write(item))).ms);
  return summarize(ms);
}

/** Every query timed after a warm-up, in two passes (the second reported); `search` returns how many results it got. */
async function searchLatencies(qs: readonly string[], search: (query: string) => Promise<number>): Promise<SearchResult> {
  const pass = async () => {
    for (const q of qs.slice(0, WARM_UP)) await search(q);
    const ms: number[] = [];
    const counts: number[] = [];
    for (const q of qs) {
      const { ms: elapsed, value } = await timed(() => search(q));
      ms.push(elapsed);
      counts.push(value);
    }
    return { latency: summarize(ms), counts };
  };
  const first = await pass();
  const { latency, counts } = await pass();
  const hits = { mean: round(counts.reduce((a, b) => a + b, 0) / (counts.length || 1)), queries_with_hits: counts.filter((n) => n > 0).length };
  return { ...latency, hits, first_pass_p50: first.latency.p50 };
}

async function benchPinak(size: number, qs: readonly string[], extra: readonly BenchMemory[]): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), `pinak-compare-${size}-`));
  const server = await startServer(dataDir);
  try {
    const client = server.client;
    log(`pinak ${size}: loading`);
    const bulk = await load(client, memories(size), size);
    log(`pinak ${size}: single writes`);
    const write = await writeLatencies(extra, (memory) => call(client, 'remember', { ...memory }));
    await waitForIndex(client);
    log(`pinak ${size}: search`);
    const search = async (mode: string): Promise<SearchResult> =>
      searchLatencies(qs, async (query) => ((await call(client, 'search_memory', { query, mode, namespace: '*', limit: 10 })).hits as unknown[]).length);
    const hybrid = await search('hybrid');
    const keyword = await search('keyword');
    return { bulk_load: bulk, write_ms: write, search_ms: { hybrid, keyword } };
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchServerMemory(size: number, qs: readonly string[], extra: readonly BenchMemory[]): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), `server-memory-compare-${size}-`));
  const server = await startServerMemory(join(dir, 'memory.jsonl'));
  try {
    const client = server.client;
    const create = (entities: Entity[]): Promise<Result> => call(client, 'create_entities', { entities });
    log(`server-memory ${size}: loading`);
    const entities = (function* () {
      let i = 0;
      for (const memory of memories(size)) yield toEntity(memory, `m${i++}`);
    })();
    const bulk = await loadInBatches(entities, size, create);
    log(`server-memory ${size}: single writes`);
    const write = await writeLatencies(
      extra.map((memory, i) => toEntity(memory, `w${i}`)),
      (entity) => create([entity]),
    );
    log(`server-memory ${size}: search`);
    const search = await searchLatencies(qs, async (query) => ((await call(client, 'search_nodes', { query })).entities as unknown[]).length);
    return { bulk_load: bulk, write_ms: write, search_ms: search };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchSize(size: number, qs: readonly string[]): Promise<Result> {
  const extra = [...memories(SINGLE_WRITES, 99)];
  const loadBefore = round(loadavg()[0] ?? Number.NaN, 2);
  const serverMemory = await benchServerMemory(size, qs, extra);
  const pinak = await benchPinak(size, qs, extra);
  const times = (theirs: number, ours: number): number => round(theirs / ours);
  return {
    size,
    load_average_1m: { before: loadBefore, after: round(loadavg()[0] ?? Number.NaN, 2) },
    server_memory: serverMemory,
    pinak,
    pinak_times_faster: {
      search_p50_hybrid: times(serverMemory.search_ms.p50, pinak.search_ms.hybrid.p50),
      search_p50_keyword: times(serverMemory.search_ms.p50, pinak.search_ms.keyword.p50),
      write_p50: times(serverMemory.write_ms.p50, pinak.write_ms.p50),
    },
  };
}

function markdown(results: Result[]): string {
  const latency = (l: Latency): string => `${l.p50} / ${l.p95} / ${l.p99}`;
  const row = (size: number, server: string, bulk: Result, write: Latency, search: SearchResult): string =>
    `| ${size.toLocaleString('en')} | ${server} | ${bulk.memories_per_s} | ${write.p50} / ${write.p99} | ${latency(search)} | ${search.first_pass_p50} | ${search.hits.queries_with_hits}/${search.n} | ${search.hits.mean} |`;
  const rows = results.flatMap((r) => [
    row(r.size, 'server-memory `search_nodes`', r.server_memory.bulk_load, r.server_memory.write_ms, r.server_memory.search_ms),
    row(r.size, 'Pinak hybrid', r.pinak.bulk_load, r.pinak.write_ms, r.pinak.search_ms.hybrid),
    row(r.size, 'Pinak keyword', r.pinak.bulk_load, r.pinak.write_ms, r.pinak.search_ms.keyword),
  ]);
  const ratios = results.map((r) => {
    const t = r.pinak_times_faster;
    return `| ${r.size.toLocaleString('en')} | ${t.search_p50_hybrid}× | ${t.search_p50_keyword}× | ${t.write_p50}× |`;
  });
  return [
    '| memories | server / search | bulk load /s | write p50 / p99 ms | search p50 / p95 / p99 ms | first pass p50 | queries with hits | mean hits |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| memories | Pinak faster: search p50 (hybrid) | search p50 (keyword) | write p50 |',
    '|---|---|---|---|',
    ...ratios,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { '100k': { type: 'boolean', default: false }, queries: { type: 'string', default: '200' }, out: { type: 'string', default: join(ROOT, 'bench', 'results') } },
  });
  const sizes = [1_000, 10_000];
  if (values['100k']) sizes.push(100_000);
  buildIfStale();
  const qs = queries(Number(values.queries));
  const results: Result[] = [];
  for (const size of sizes) results.push(await benchSize(size, qs));
  const settings = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('PINAK_')));
  const report = { when: new Date().toISOString(), machine: describeMachine(), settings, server_memory_version: serverMemoryVersion(), results };
  const table = markdown(results);
  mkdirSync(values.out, { recursive: true });
  const stamp = report.when.replace(/[:.]/g, '-');
  writeFileSync(join(values.out, `${stamp}-compare.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(values.out, `${stamp}-compare.md`), `${table}\n`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  log(`\n${table}`);
}

function serverMemoryVersion(): string {
  const pkg = createRequire(import.meta.url)('@modelcontextprotocol/server-memory/package.json') as { version: string };
  return pkg.version;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:compare: ${(error as Error).message}\n`);
  process.exit(1);
});
