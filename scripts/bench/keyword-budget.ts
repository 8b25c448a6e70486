/**
 * The keyword leg under different row budgets (see src/store/sqlite/term-budget.ts):
 * latency of the store's keyword search, and how much of the top 10 after soft
 * AND agrees with unbounded BM25 over every query word (the reference).
 *
 *   npm run bench:keyword -- --data-dir DIR [--budgets 5000,10000,20000] [--queries 200]
 *
 * DIR holds a Pinak database; make one of the benchmark's generated memories with
 *   npm run bench:keyword -- --generate 1000000 --out memories.jsonl
 *   node dist/cli.js import memories.jsonl --data-dir DIR
 * Prints JSON. Read-only on the database.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rewardCoverage } from '../../src/memory/soft-and.js';
import { queryTerms } from '../../src/memory/query-terms.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StoreFilters } from '../../src/store/store.js';
import { memories, queries } from './data.js';
import { describeMachine, summarize } from './stats.js';

const ALL: StoreFilters = { namespace: null, time_field: 'occurred_at', include_superseded: false };
const DEPTH = 50;
const SOFT_AND = 2;

function fail(message: string): never {
  process.stderr.write(`bench:keyword: ${message}\n`);
  process.exit(1);
}

async function generate(count: number, out: string): Promise<void> {
  const file = createWriteStream(out);
  for (const memory of memories(count)) if (!file.write(`${JSON.stringify(memory)}\n`)) await once(file, 'drain');
  file.end();
  await once(file, 'finish');
  process.stderr.write(`bench:keyword: wrote ${count} memories to ${out}\n`);
}

async function topTen(store: SqliteStore, terms: string[]): Promise<number[]> {
  const hits = await store.searchKeyword({ terms, filters: ALL, limit: DEPTH });
  return (await rewardCoverage(store, hits, terms, SOFT_AND)).slice(0, 10).map((hit) => hit.doc_id);
}

async function measure(file: string, budgets: number[], count: number): Promise<unknown> {
  const qs = queries(count).map(queryTerms);
  const reference = SqliteStore.open({ file, busyTimeoutMs: 5000, keywordRowBudget: Number.MAX_SAFE_INTEGER });
  await reference.prepareKeywordScoring();
  const expected: number[][] = [];
  for (const terms of qs) expected.push(await topTen(reference, terms));
  await reference.close();
  const results = [];
  for (const budget of budgets) {
    const store = SqliteStore.open({ file, busyTimeoutMs: 5000, keywordRowBudget: budget });
    // Row lengths in memory first, as a server has them a second after start (see bm25.ts).
    await store.prepareKeywordScoring();
    for (const terms of qs.slice(0, 20)) await store.searchKeyword({ terms, filters: ALL, limit: DEPTH }); // warm-up and term counts
    const ms: number[] = [];
    let agreeing = 0;
    let total = 0;
    for (const [i, terms] of qs.entries()) {
      const started = performance.now();
      await store.searchKeyword({ terms, filters: ALL, limit: DEPTH });
      ms.push(performance.now() - started);
      const got = new Set(await topTen(store, terms));
      agreeing += expected[i]!.filter((id) => got.has(id)).length;
      total += expected[i]!.length;
    }
    await store.close();
    results.push({ budget, keyword_ms: summarize(ms), top10_agreement: Math.round((agreeing / Math.max(1, total)) * 1000) / 1000 });
  }
  return { machine: describeMachine(), queries: count, results };
}

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    budgets: { type: 'string', default: '5000,10000,20000' },
    queries: { type: 'string', default: '200' },
    generate: { type: 'string' },
    out: { type: 'string' },
  },
});
if (values.generate !== undefined) {
  const count = Number(values.generate);
  if (!Number.isInteger(count) || count < 1) fail(`--generate needs a positive whole number, got ${JSON.stringify(values.generate)}`);
  if (!values.out) fail('--generate needs --out FILE');
  await generate(count, values.out);
} else {
  if (!values['data-dir']) fail('give --data-dir DIR (a Pinak data directory), or --generate N --out FILE to make data for one');
  const file = join(values['data-dir'], 'pinak.db');
  if (!existsSync(file)) fail(`no database at ${file}`);
  const budgets = values.budgets.split(',').map(Number);
  if (budgets.some((b) => !Number.isInteger(b) || b < 1)) fail(`--budgets needs positive whole numbers, got ${JSON.stringify(values.budgets)}`);
  const count = Number(values.queries);
  if (!Number.isInteger(count) || count < 1) fail(`--queries needs a positive whole number, got ${JSON.stringify(values.queries)}`);
  process.stdout.write(`${JSON.stringify(await measure(file, budgets, count), null, 2)}\n`);
}
