/**
 * End-to-end benchmark: the built server over stdio with the SDK client, as an
 * agent uses it, with deterministic generated data.
 *
 *   npm run bench -- [--sizes 10000,100000] [--1m] [--queries 200] [--out bench/results]
 *   npm run bench -- --backend postgres|both --database-url postgres://… [--pglite-sizes 10000,20000] [--hnsw-ef-search N]
 *
 * Per size: bulk load (batched remember), single remember latency, search
 * latency per mode (all namespaces, one selective namespace, and hybrid over queries
 * of frequent words only, each in 20-60 % of the memories; the queries
 * run twice, the table showing the second pass and the first's p50), cold start to
 * the first answered search and to vector search (a large index loads in the
 * background), peak RSS of the server, size on disk, and vector recall@10
 * against exact search. Prints JSON; writes JSON and a Markdown table.
 *
 * Backends: sqlite (the default: a temp data directory), postgres (the
 * database the URL names, or PINAK_DATABASE_URL: a fresh database per size,
 * created and dropped here when the role may; keyword search only, with
 * --embed-model none, as this server may have no pgvector; then the vector
 * measurements on PGlite with pgvector in a child process, which are not
 * production numbers), or both in one run, side by side with the targets.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { resolveConfig } from '../../src/config.js';
import { redactDatabaseUrl } from '../../src/domain/database-url.js';
import { LOCAL_SCHEMA } from '../../src/store/open-store.js';
import { buildIfStale, ROOT } from '../lib/build.js';
import { frequentWordQueries, memories, queries } from './data.js';
import { benchDatabase, describePostgres, startPglite, vacuumAnalyze } from './postgres.js';
import { exactRecall, exactRecallOver, postgresVectors } from './recall.js';
import { call, load, log, shellSettings, startServer, waitForVectorSearch, type Result } from './servers.js';
import { describeMachine, summarize, timed } from './stats.js';

/** What every PGlite number carries: it measures the code path, not a production database. */
const PGLITE_LABEL = 'not production numbers: PGlite (single-session WASM)';

/** The targets for the PostgreSQL backend, at 10k and 100k memories. */
const TARGETS = { remember_p50_ms: 5, keyword_p50_ms: 5, bulk_load_per_s: 2000, vector_recall_at_10: 0.95 };

/** Peak resident set of a process (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, entry) => sum + (entry.isDirectory() ? dirBytes(join(dir, entry.name)) : statSync(join(dir, entry.name)).size),
    0,
  );
}

/** The 1-minute load average, to judge how much else the machine was doing. */
const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

/**
 * Latencies per mode, over the same queries twice: a first pass right after
 * whatever came before (after a bulk load the store's pages are read back from
 * disk: the OS here keeps few of them cached), and a second, as a server that
 * has been answering for a while does.
 */
async function searchLatencies(client: Client, qs: readonly string[], namespace: string, modes: readonly string[]): Promise<{ first: Result; again: Result }> {
  const pass = async (): Promise<Result> => {
    const out: Result = {};
    for (const mode of modes) {
      for (const q of qs.slice(0, 10)) await call(client, 'search_memory', { query: q, mode, namespace, limit: 10 }); // warm-up
      const ms: number[] = [];
      for (const q of qs) ms.push((await timed(() => call(client, 'search_memory', { query: q, mode, namespace, limit: 10 }))).ms);
      out[mode] = summarize(ms);
    }
    return out;
  };
  const first = await pass();
  return { first, again: await pass() };
}

/** Where one size is measured: the server's flags and how to read what it stored. */
interface Place {
  dataDir: string;
  args: string[];
  /** Size of what the server stored, in MB. */
  diskMb(client: Client): Promise<number>;
  /** Vector recall@10 against exact search, or null where there are no vectors. */
  recall(client: Client, qs: readonly string[]): Promise<number | null>;
  /**
   * After the bulk load: bring the database to the state a server that has
   * been running a while finds it in (PostgreSQL: VACUUM ANALYZE, which
   * autovacuum does on its own within a minute or so of a load, and PGlite,
   * which has no autovacuum, never does). Returns what it did.
   */
  settle?(): Promise<string>;
  /** Another process whose peak memory counts (PGlite's). */
  helperPid?: number;
  cleanup(): Promise<void>;
}

interface Backend {
  name: 'sqlite' | 'postgres' | 'pglite';
  modes: readonly string[];
  place(size: number): Promise<Place>;
}

const ALL_MODES = ['keyword', 'vector', 'hybrid'] as const;

function sqliteBackend(extraArgs: string[]): Backend {
  return {
    name: 'sqlite',
    modes: ALL_MODES,
    async place(size) {
      const dataDir = mkdtempSync(join(tmpdir(), `pinak-bench-${size}-`));
      return {
        dataDir,
        args: extraArgs,
        diskMb: async () => Math.round(dirBytes(dataDir) / 1e5) / 10,
        recall: (client, qs) => exactRecall(client, dataDir, qs),
        cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  };
}

/** The schema's tables and indexes, as memory_stats counts them. */
async function schemaMb(client: Client): Promise<number> {
  const { database_bytes } = await call(client, 'memory_stats', {});
  return Math.round(database_bytes / 1e5) / 10;
}

/** Native PostgreSQL, keyword search only (the bench makes no assumption that it has pgvector). */
function postgresBackend(url: string, extraArgs: string[]): Backend {
  return {
    name: 'postgres',
    modes: ['keyword'],
    async place(size) {
      const database = await benchDatabase(url, String(size));
      const dataDir = mkdtempSync(join(tmpdir(), `pinak-bench-pg-${size}-`));
      return {
        dataDir,
        args: ['--database-url', database.url, '--embed-model', 'none', ...extraArgs],
        diskMb: schemaMb,
        settle: () => vacuumAnalyze(database.url),
        recall: async () => null,
        cleanup: async () => {
          await database.drop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** PGlite with pgvector in a child process, a new one per size: vectors in pgvector, one session. */
function pgliteBackend(extraArgs: string[]): Backend {
  return {
    name: 'pglite',
    modes: ALL_MODES,
    async place(size) {
      const pglite = await startPglite();
      const dataDir = mkdtempSync(join(tmpdir(), `pinak-bench-pglite-${size}-`));
      return {
        dataDir,
        args: ['--database-url', pglite.url, '--database-pool-size', '1', ...extraArgs],
        diskMb: schemaMb,
        settle: () => vacuumAnalyze(pglite.url),
        recall: (client, qs) => exactRecallOver(client, postgresVectors(pglite.url, LOCAL_SCHEMA), qs),
        helperPid: pglite.pid,
        cleanup: async () => {
          await pglite.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

async function benchSize(backend: Backend, size: number, options: { queries: number }): Promise<Result> {
  const place = await backend.place(size);
  const loadAvg: Record<string, number> = {};
  try {
    log(`${backend.name} ${size}: loading`);
    loadAvg.bulk_load = load1();
    let server = await startServer(place.dataDir, place.args);
    const bulk = await load(server.client, memories(size), size);
    if (place.settle) {
      const settling = await timed(() => place.settle!());
      bulk.after_load = `${settling.value} (${Math.round(settling.ms / 100) / 10} s)`;
    }

    log(`${backend.name} ${size}: single remember`);
    loadAvg.remember = load1();
    const extra = [...memories(200, 99)];
    const writes: number[] = [];
    for (const memory of extra) writes.push((await timed(() => call(server.client, 'remember', { ...memory }))).ms);

    log(`${backend.name} ${size}: search`);
    loadAvg.search = load1();
    const qs = queries(options.queries);
    const all = await searchLatencies(server.client, qs, '*', backend.modes);
    const selective = await searchLatencies(server.client, qs, 'ns77', backend.modes);
    // Queries whose every word is in 20-60 % of the store: the most rows a keyword search touches.
    const frequent = await searchLatencies(server.client, frequentWordQueries(options.queries, size), '*', [backend.modes.includes('hybrid') ? 'hybrid' : 'keyword']);
    const rssWarm = peakRssMb(server.pid);
    await server.close();

    log(`${backend.name} ${size}: cold start`);
    loadAvg.cold_start = load1();
    const coldStarted = performance.now();
    server = await startServer(place.dataDir, place.args);
    const first = await call(server.client, 'search_memory', { query: qs[0], limit: 10 });
    const coldStartMs = Math.round(performance.now() - coldStarted);
    // A large index loads in the background: the first answers are keyword-only until it is ready.
    await waitForVectorSearch(server.client);
    const vectorsReadyMs = Math.round(performance.now() - coldStarted);

    log(`${backend.name} ${size}: recall`);
    const recall = await place.recall(server.client, qs.slice(0, 100));
    const rssPeak = Math.max(rssWarm, peakRssMb(server.pid));
    const diskMb = await place.diskMb(server.client);
    const helperRss = place.helperPid === undefined ? undefined : peakRssMb(place.helperPid);
    await server.close();
    loadAvg.end = load1();

    return {
      size,
      bulk_load: bulk,
      remember_ms: summarize(writes),
      search_ms: {
        all_namespaces: all.again,
        selective_namespace: selective.again,
        frequent_words: frequent.again,
        first_pass: { all_namespaces: all.first, selective_namespace: selective.first, frequent_words: frequent.first },
      },
      cold_start_to_first_search_ms: coldStartMs,
      first_search_mode: first.mode,
      cold_start_to_vector_search_ms: vectorsReadyMs,
      peak_rss_mb: rssPeak,
      ...(helperRss === undefined ? {} : { database_process_peak_rss_mb: helperRss }),
      disk_mb: diskMb,
      vector_recall_at_10: recall,
      load_average_1m: loadAvg,
    };
  } finally {
    await place.cleanup();
  }
}

function markdown(results: Result[]): string {
  const rows = results.map((r) => {
    const s = r.search_ms.all_namespaces;
    const f = r.search_ms.selective_namespace;
    const w = r.search_ms.frequent_words;
    const first = r.search_ms.first_pass.all_namespaces;
    return `| ${r.size.toLocaleString('en')} | ${r.bulk_load.memories_per_s} | ${r.remember_ms.p50} / ${r.remember_ms.p99} | ${s.keyword.p50} / ${s.keyword.p99} | ${s.vector.p50} / ${s.vector.p99} | ${s.hybrid.p50} / ${s.hybrid.p99} | ${f.hybrid.p50} / ${f.hybrid.p99} | ${w.hybrid.p50} / ${w.hybrid.p99} | ${first.keyword.p50} / ${first.hybrid.p50} | ${r.cold_start_to_first_search_ms} (${r.first_search_mode}) / ${r.cold_start_to_vector_search_ms} | ${r.peak_rss_mb} | ${r.disk_mb} | ${r.vector_recall_at_10} |`;
  });
  return [
    '| memories | bulk load /s | remember p50 / p99 ms | keyword p50 / p99 | vector p50 / p99 | hybrid p50 / p99 | hybrid, 1 namespace | hybrid, frequent words | first pass: keyword / hybrid p50 | cold start ms: first search / vectors ready | peak RSS MB | disk MB | vector recall@10 |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** Keyword-only results (native PostgreSQL): the columns that mean something there. */
function keywordMarkdown(results: Result[]): string {
  const rows = results.map((r) => {
    const s = r.search_ms.all_namespaces.keyword;
    const f = r.search_ms.selective_namespace.keyword;
    const first = r.search_ms.first_pass.all_namespaces.keyword;
    return `| ${r.size.toLocaleString('en')} | ${r.bulk_load.memories_per_s} | ${r.remember_ms.p50} / ${r.remember_ms.p99} | ${s.p50} / ${s.p99} | ${f.p50} / ${f.p99} | ${first.p50} | ${r.cold_start_to_first_search_ms} | ${r.peak_rss_mb} | ${r.disk_mb} | ${r.load_average_1m.search} |`;
  });
  return [
    '| memories | bulk load /s | remember p50 / p99 ms | keyword p50 / p99 | keyword, 1 namespace | first pass keyword p50 | cold start ms | peak RSS MB | schema MB | load avg (search) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The targets next to what each backend measured at the same size in this run. */
function targetRows(sqlite: Result[] | undefined, postgres: Result[] | undefined, pglite: Result[] | undefined): Result[] {
  const at = (results: Result[] | undefined, size: number): Result | undefined => results?.find((r) => r.size === size);
  const sizes = [...new Set([...(postgres ?? []), ...(sqlite ?? [])].map((r) => r.size as number))].sort((a, b) => a - b);
  const metrics: Array<{ metric: string; target: number; better: 'lower' | 'higher'; of: (r: Result) => number }> = [
    { metric: 'remember p50 ms', target: TARGETS.remember_p50_ms, better: 'lower', of: (r) => r.remember_ms.p50 },
    { metric: 'keyword search p50 ms, all namespaces', target: TARGETS.keyword_p50_ms, better: 'lower', of: (r) => r.search_ms.all_namespaces.keyword.p50 },
    { metric: 'keyword search p50 ms, one namespace', target: TARGETS.keyword_p50_ms, better: 'lower', of: (r) => r.search_ms.selective_namespace.keyword.p50 },
    { metric: 'bulk load memories/s', target: TARGETS.bulk_load_per_s, better: 'higher', of: (r) => r.bulk_load.memories_per_s },
  ];
  const meets = (value: number | undefined, target: number, better: 'lower' | 'higher'): boolean | null =>
    value === undefined ? null : better === 'lower' ? value <= target : value >= target;
  const rows: Result[] = [];
  for (const size of sizes) {
    for (const { metric, target, better, of } of metrics) {
      const pg = at(postgres, size);
      const value = pg ? of(pg) : undefined;
      const lite = at(sqlite, size);
      rows.push({ size, metric, target, postgres: value ?? null, postgres_meets_target: meets(value, target, better), sqlite: lite ? of(lite) : null });
    }
  }
  for (const r of pglite ?? []) {
    rows.push({
      size: r.size,
      metric: 'pgvector recall@10 (PGlite)',
      target: TARGETS.vector_recall_at_10,
      postgres: r.vector_recall_at_10,
      postgres_meets_target: meets(r.vector_recall_at_10 ?? undefined, TARGETS.vector_recall_at_10, 'higher'),
      sqlite: at(sqlite, r.size)?.vector_recall_at_10 ?? null,
      note: PGLITE_LABEL,
    });
  }
  return rows;
}

function targetMarkdown(rows: Result[]): string {
  return [
    '| memories | measure | target | PostgreSQL | meets | SQLite |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.size.toLocaleString('en')} | ${r.metric} | ${r.target} | ${r.postgres ?? '–'} | ${r.postgres_meets_target === null ? '–' : r.postgres_meets_target ? 'yes' : 'no'} | ${r.sqlite ?? '–'} |`),
  ].join('\n');
}

const sizeList = (text: string): number[] => text.split(',').filter((s) => s !== '').map(Number).filter((n) => Number.isInteger(n) && n > 0);

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      sizes: { type: 'string', default: '10000,100000' },
      '1m': { type: 'boolean', default: false },
      queries: { type: 'string', default: '200' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results') },
      backend: { type: 'string', default: 'sqlite' },
      'database-url': { type: 'string' },
      'pglite-sizes': { type: 'string', default: '10000,20000' },
      'hnsw-ef-search': { type: 'string' },
    },
  });
  const backend = values.backend;
  if (!['sqlite', 'postgres', 'both'].includes(backend)) throw new Error(`--backend is sqlite, postgres or both, not ${JSON.stringify(backend)}`);
  const runSqlite = backend !== 'postgres';
  const runPostgres = backend !== 'sqlite';
  const databaseUrl = values['database-url'] ?? process.env.PINAK_DATABASE_URL;
  if (runPostgres && !databaseUrl) throw new Error('--backend postgres needs --database-url (or PINAK_DATABASE_URL)');
  const sizes = sizeList(values.sizes);
  if (values['1m']) sizes.push(1_000_000);
  const pgliteSizes = sizeList(values['pglite-sizes']);
  const efSearch = values['hnsw-ef-search'];
  if (efSearch !== undefined && !/^\d+$/.test(efSearch)) throw new Error(`--hnsw-ef-search is a whole number, not ${JSON.stringify(efSearch)}`);
  const extraArgs = efSearch === undefined ? [] : ['--hnsw-ef-search', efSearch];
  const options = { queries: Number(values.queries) };
  buildIfStale();
  const machine = describeMachine();
  const when = new Date().toISOString();
  const loadAtStart = loadavg().map((v) => Math.round(v * 100) / 100);

  const report: Result = { when, machine, settings: shellSettings() };
  if (databaseUrl) report.settings.PINAK_DATABASE_URL = redactDatabaseUrl(databaseUrl);
  if (efSearch !== undefined) report.settings.hnsw_ef_search = Number(efSearch);
  const tables: string[] = [];
  let sqliteResults: Result[] | undefined;
  if (runSqlite) {
    sqliteResults = [];
    for (const size of sizes) sqliteResults.push(await benchSize(sqliteBackend(extraArgs), size, options));
    report.results = sqliteResults;
    tables.push(runPostgres ? `SQLite\n\n${markdown(sqliteResults)}` : markdown(sqliteResults));
  }
  if (runPostgres) {
    const configuration = await describePostgres(databaseUrl!);
    const results: Result[] = [];
    for (const size of sizes) results.push(await benchSize(postgresBackend(databaseUrl!, extraArgs), size, options));
    report.postgres = { configuration, server_flags: ['--embed-model', 'none'], results };
    tables.push(`PostgreSQL (keyword search; ${configuration.server_version}, shared_buffers ${configuration.shared_buffers}, synchronous_commit ${configuration.synchronous_commit}, fsync ${configuration.fsync})\n\n${keywordMarkdown(results)}`);

    const pgliteResults: Result[] = [];
    let pgliteConfiguration: Record<string, string> | undefined;
    for (const size of pgliteSizes) {
      if (!pgliteConfiguration) {
        const probe = await startPglite();
        try {
          pgliteConfiguration = await describePostgres(probe.url);
        } finally {
          await probe.stop();
        }
      }
      const result = await benchSize(pgliteBackend(extraArgs), size, options);
      pgliteResults.push({ note: PGLITE_LABEL, ...result });
    }
    report.pglite = {
      note: PGLITE_LABEL,
      configuration: pgliteConfiguration ?? null,
      server_flags: ['--database-pool-size', '1'],
      hnsw_ef_search: resolveConfig(efSearch === undefined ? {} : { 'hnsw-ef-search': efSearch }, shellSettings()).hnswEfSearch,
      results: pgliteResults,
    };
    if (pgliteResults.length) tables.push(`PGlite with pgvector (${PGLITE_LABEL})\n\n${markdown(pgliteResults)}`);
    report.targets = targetRows(sqliteResults, results, pgliteResults);
    tables.push(`Targets\n\n${targetMarkdown(report.targets)}`);
  }
  report.load_average = { start: loadAtStart, end: loadavg().map((v) => Math.round(v * 100) / 100) };

  const table = tables.join('\n\n');
  mkdirSync(values.out, { recursive: true });
  const stamp = when.replace(/[:.]/g, '-');
  writeFileSync(join(values.out, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(values.out, `${stamp}.md`), `${table}\n`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  log(`\n${table}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(1);
});
