/**
 * End-to-end benchmark: the built server over stdio with the SDK client, as an
 * agent uses it, on a temp data directory, with deterministic generated data.
 *
 *   npm run bench -- [--sizes 10000,100000] [--1m] [--queries 200] [--out bench/results]
 *
 * Per size: bulk load (batched remember), single remember latency, search
 * latency per mode (all namespaces, and one selective namespace; the queries
 * run twice, the table showing the second pass and the first's p50), cold start to
 * the first answered search and to vector search (a large index loads in the
 * background), peak RSS of the server, size on disk, and vector recall@10
 * against exact search. Prints JSON; writes JSON and a Markdown table.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { buildIfStale, ROOT } from '../lib/build.js';
import { memories, queries } from './data.js';
import { exactRecall } from './recall.js';
import { call, load, log, startServer, waitForVectorSearch, type Result } from './servers.js';
import { describeMachine, summarize, timed } from './stats.js';

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

/**
 * Latencies per mode, over the same queries twice: a first pass right after
 * whatever came before (after a bulk load the store's pages are read back from
 * disk: the OS here keeps few of them cached), and a second, as a server that
 * has been answering for a while does.
 */
async function searchLatencies(client: Client, qs: readonly string[], namespace: string): Promise<{ first: Result; again: Result }> {
  const pass = async (): Promise<Result> => {
    const out: Result = {};
    for (const mode of ['keyword', 'vector', 'hybrid']) {
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

async function benchSize(size: number, options: { queries: number }): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), `pinak-bench-${size}-`));
  try {
    log(`size ${size}: loading`);
    let server = await startServer(dataDir);
    const bulk = await load(server.client, memories(size), size);

    log(`size ${size}: single remember`);
    const extra = [...memories(200, 99)];
    const writes: number[] = [];
    for (const memory of extra) writes.push((await timed(() => call(server.client, 'remember', { ...memory }))).ms);

    log(`size ${size}: search`);
    const qs = queries(options.queries);
    const all = await searchLatencies(server.client, qs, '*');
    const selective = await searchLatencies(server.client, qs, 'ns77');
    const rssWarm = peakRssMb(server.pid);
    await server.close();

    log(`size ${size}: cold start`);
    const coldStarted = performance.now();
    server = await startServer(dataDir);
    const first = await call(server.client, 'search_memory', { query: qs[0], limit: 10 });
    const coldStartMs = Math.round(performance.now() - coldStarted);
    // A large index loads in the background: the first answers are keyword-only until it is ready.
    await waitForVectorSearch(server.client);
    const vectorsReadyMs = Math.round(performance.now() - coldStarted);

    log(`size ${size}: recall`);
    const recall = await exactRecall(server.client, dataDir, qs.slice(0, 100));
    const rssPeak = Math.max(rssWarm, peakRssMb(server.pid));
    await server.close();

    return {
      size,
      bulk_load: bulk,
      remember_ms: summarize(writes),
      search_ms: {
        all_namespaces: all.again,
        selective_namespace: selective.again,
        first_pass: { all_namespaces: all.first, selective_namespace: selective.first },
      },
      cold_start_to_first_search_ms: coldStartMs,
      first_search_mode: first.mode,
      cold_start_to_vector_search_ms: vectorsReadyMs,
      peak_rss_mb: rssPeak,
      disk_mb: Math.round(dirBytes(dataDir) / 1e5) / 10,
      vector_recall_at_10: recall,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function markdown(results: Result[]): string {
  const rows = results.map((r) => {
    const s = r.search_ms.all_namespaces;
    const f = r.search_ms.selective_namespace;
    const first = r.search_ms.first_pass.all_namespaces;
    return `| ${r.size.toLocaleString('en')} | ${r.bulk_load.memories_per_s} | ${r.remember_ms.p50} / ${r.remember_ms.p99} | ${s.keyword.p50} / ${s.keyword.p99} | ${s.vector.p50} / ${s.vector.p99} | ${s.hybrid.p50} / ${s.hybrid.p99} | ${f.hybrid.p50} / ${f.hybrid.p99} | ${first.keyword.p50} / ${first.hybrid.p50} | ${r.cold_start_to_first_search_ms} (${r.first_search_mode}) / ${r.cold_start_to_vector_search_ms} | ${r.peak_rss_mb} | ${r.disk_mb} | ${r.vector_recall_at_10} |`;
  });
  return [
    '| memories | bulk load /s | remember p50 / p99 ms | keyword p50 / p99 | vector p50 / p99 | hybrid p50 / p99 | hybrid, 1 namespace | first pass: keyword / hybrid p50 | cold start ms: first search / vectors ready | peak RSS MB | disk MB | vector recall@10 |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { sizes: { type: 'string', default: '10000,100000' }, '1m': { type: 'boolean', default: false }, queries: { type: 'string', default: '200' }, out: { type: 'string', default: join(ROOT, 'bench', 'results') } },
  });
  const sizes = values.sizes.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  if (values['1m']) sizes.push(1_000_000);
  buildIfStale();
  const machine = describeMachine();
  const results: Result[] = [];
  for (const size of sizes) results.push(await benchSize(size, { queries: Number(values.queries) }));
  const settings = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('PINAK_')));
  const report = { when: new Date().toISOString(), machine, settings, results };
  const table = markdown(results);
  mkdirSync(values.out, { recursive: true });
  const stamp = report.when.replace(/[:.]/g, '-');
  writeFileSync(join(values.out, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(values.out, `${stamp}.md`), `${table}\n`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  log(`\n${table}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(1);
});
