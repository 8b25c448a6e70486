/**
 * How soon after a bulk load the vector graph holds every vector, and what
 * `remember` and a hybrid search cost meanwhile: once with the graph built on
 * the serving thread (`--graph-build-above 0`, as before) and once off it (a
 * worker thread builds large backlogs, the default).
 *
 *   npm run bench:graph-build -- [--sizes 100000] [--modes serving-thread,off-thread] [--sample-ms 50] [--out bench/results] [--keep] [--log-level info]
 *   npm run bench:graph-build -- --cold-start DIR [--runs 3]
 *
 * Per size and mode: bulk load with `remember` batches of 100 (rate until the
 * last acknowledged write), then, until memory_stats reports no backlog, a
 * single `remember` and a hybrid search every `--sample-ms`; the graph is
 * complete when the backlog is empty. Then a cold start: the server is stopped
 * and started again, and timed to its first hybrid search served with the
 * vector index loaded (memory_stats no longer says it is loading). Prints
 * JSON, and writes it to --out. `--keep` leaves each data directory in place
 * (its path is logged) for runs that reuse the store; `--log-level` is the
 * servers' (default warn), their logs on stderr. `--cold-start DIR` times
 * only cold starts (`--runs` of them) of a store kept that way.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildIfStale, ROOT } from '../lib/build.js';
import { memories, queries, type BenchMemory } from './data.js';
import { call, log, startServer, waitForVectorSearch, type Result, type Server } from './servers.js';
import { describeMachine, summarize, timed } from './stats.js';

const MODES = { 'serving-thread': ['--graph-build-above', '0'], 'off-thread': [] } as const satisfies Record<string, readonly string[]>;
type Mode = keyof typeof MODES;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000' },
    modes: { type: 'string', default: Object.keys(MODES).join(',') },
    'sample-ms': { type: 'string', default: '50' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    keep: { type: 'boolean', default: false },
    'cold-start': { type: 'string' },
    runs: { type: 'string', default: '3' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const modes = values.modes.split(',') as Mode[];
for (const mode of modes) if (!(mode in MODES)) throw new Error(`unknown mode ${mode}: use ${Object.keys(MODES).join(', ')}`);
const sampleMs = Number(values['sample-ms']);

const peakRssMb = (pid: number): number => Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Start the server on a store and time its first search, then its first hybrid search with the vector index loaded. */
async function coldStart(dataDir: string, flags: readonly string[]): Promise<{ server: Server; result: Result }> {
  const qs = queries(2, 11);
  const started = performance.now();
  const server = await startServer(dataDir, flags);
  const firstAnswer = await call(server.client, 'search_memory', { query: qs[0], mode: 'hybrid', limit: 10 });
  const firstMs = performance.now() - started;
  await waitForVectorSearch(server.client);
  await call(server.client, 'search_memory', { query: qs[1], mode: 'hybrid', limit: 10 });
  const hybridMs = performance.now() - started;
  return {
    server,
    result: {
      first_search_ms: Math.round(firstMs),
      first_search_mode: firstAnswer.mode,
      first_hybrid_search_with_vectors_ms: Math.round(hybridMs),
      peak_rss_mb: peakRssMb(server.pid),
    },
  };
}

async function measure(size: number, mode: Mode): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), `pinak-graph-build-${size}-`));
  const flags = [...MODES[mode], '--log-level', values['log-level']];
  let server = await startServer(dataDir, flags);
  try {
    log(`${mode} ${size}: loading`);
    const started = performance.now();
    let batch: BenchMemory[] = [];
    for (const memory of memories(size)) {
      batch.push(memory);
      if (batch.length === 100) {
        await call(server.client, 'remember', { memories: batch });
        batch = [];
      }
    }
    if (batch.length) await call(server.client, 'remember', { memories: batch });
    const lastAck = performance.now();

    log(`${mode} ${size}: sampling until the graph is complete`);
    const extra = memories(1_000_000, 77)[Symbol.iterator]();
    const qs = queries(200, 11);
    const remember: number[] = [];
    const search: number[] = [];
    const backlogSeen: number[] = [];
    for (let i = 0; ; i++) {
      const { embedding } = await call(server.client, 'memory_stats', {});
      backlogSeen.push(embedding.index_backlog);
      if (embedding.index_backlog === 0 && embedding.embedded >= embedding.records) break;
      remember.push((await timed(() => call(server.client, 'remember', { ...extra.next().value }))).ms);
      search.push((await timed(() => call(server.client, 'search_memory', { query: qs[i % qs.length], mode: 'hybrid', limit: 10 }))).ms);
      await sleep(sampleMs);
    }
    const complete = performance.now();
    const rssBuild = peakRssMb(server.pid);
    await server.close();

    log(`${mode} ${size}: cold start`);
    const cold = await coldStart(dataDir, flags);
    server = cold.server;
    return {
      size,
      mode,
      bulk_load_per_s: Math.round(size / ((lastAck - started) / 1000)),
      graph_complete_after_last_write_s: Math.round((complete - lastAck) / 100) / 10,
      during_build: { remember_ms: summarize(remember), hybrid_search_ms: summarize(search), largest_backlog: Math.max(...backlogSeen) },
      peak_rss_mb: rssBuild,
      cold_start: cold.result,
      load_average_1m: Math.round(loadavg()[0]! * 100) / 100,
    };
  } finally {
    await server.close();
    if (values.keep) log(`${mode} ${size}: kept ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Cold starts only, of a kept store: the same flags as the off-thread mode. */
async function coldStarts(dataDir: string, runs: number): Promise<Result[]> {
  const results: Result[] = [];
  for (let run = 1; run <= runs; run++) {
    const { server, result } = await coldStart(dataDir, ['--log-level', values['log-level']]);
    await server.close();
    results.push({ data_dir: dataDir, run, cold_start: result, load_average_1m: Math.round(loadavg()[0]! * 100) / 100 });
    log(`cold start ${run}: ${JSON.stringify(result)}`);
  }
  return results;
}

buildIfStale();
const results: Result[] = [];
if (values['cold-start']) results.push(...(await coldStarts(values['cold-start'], Number(values.runs))));
else for (const size of sizes) for (const mode of modes) results.push(await measure(size, mode));
const report = { benchmark: 'graph-build', at: new Date().toISOString(), machine: describeMachine(), sample_ms: sampleMs, results };
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, `${report.at.replace(/[:.]/g, '-')}-graph-build.json`), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
