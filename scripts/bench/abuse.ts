/**
 * Abuse benchmark: does one authenticated reader slow down another tenant?
 * The built server over HTTP with API keys and the default limits (600
 * requests a minute per key, 8 calls in flight per session): a victim tenant
 * searches its own memories alone, at 8 searches a second (within its own
 * rate), then again while an attacker key (a reader of another tenant) runs
 * the cancel and duplicate-id pattern that used to escape the per-session
 * call limit, in two forms, each for the given time:
 *
 * - as reported: 10 POSTs a second, each a JSON-RPC batch of 50 searches
 *   plus 50 cancellations (every other POST with all 50 sharing one id);
 * - scaled to what the limits admit: a batch of 8 searches plus their 8
 *   cancellations (every other one sharing one id) as often as the key's
 *   rate allows.
 *
 *   npm run bench:abuse -- [--seconds 30] [--alone-seconds 10] [--memories 2000]
 *
 * Prints JSON: the victim's search latency alone and under each attack (p50,
 * p99), what the attacker's POSTs got (statuses; responses still open 5 s
 * after the attack, and the server's open file descriptors then, while the
 * attacker still waits on them), the attacker tenant's database growth per
 * POST and per JSON-RPC request sent (pages in use; the WAL file
 * separately), and the server's open file descriptors before the attacks
 * and after the attacker has given up on its open responses.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { buildIfStale } from '../lib/build.js';
import { memories, queries } from './data.js';
import { call, connectWithKey as connect, createKey, log, startHttpServer as startServer, waitForIndex, type Result } from './servers.js';
import { describeMachine, summarize } from './stats.js';

export interface AbuseOptions {
  seconds: number;
  aloneSeconds: number;
  memories: number;
}

/** The victim's pace: below the default rate limit of 10 requests a second. */
const VICTIM_PER_SECOND = 8;

/** An attack: how big each POST's batch of searches is, and how many POSTs a second. */
interface Pattern {
  name: string;
  searches: number;
  postsPerSecond: number;
}

const PATTERNS: readonly Pattern[] = [
  { name: 'as_reported', searches: 50, postsPerSecond: 10 },
  // 10 requests a second admitted, 8 per POST.
  { name: 'within_limits', searches: 8, postsPerSecond: 10 / 8 },
];

/** Store generated memories in batches of 100, waiting out the key's rate limit when it is reached. */
async function seed(client: Client, count: number, seedNumber: number): Promise<void> {
  const store = async (batch: Result[]): Promise<void> => {
    for (;;) {
      try {
        await call(client, 'remember', { memories: batch });
        return;
      } catch (error) {
        if (!/Too Many Requests/.test((error as Error).message)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  const batch: Result[] = [];
  for (const memory of memories(count, seedNumber)) {
    batch.push(memory);
    if (batch.length === 100) await store(batch.splice(0));
  }
  if (batch.length) await store(batch);
}

/** A tenant database's size: pages in use (what its records and trail take) and its files on disk. */
function databaseSize(file: string): { logical_bytes: number; file_bytes: number; wal_bytes: number } {
  const db = new Database(file, { readonly: true });
  try {
    const logical = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
    const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);
    return { logical_bytes: logical, file_bytes: size(file), wal_bytes: size(`${file}-wal`) };
  } finally {
    db.close();
  }
}

const openFds = (pid: number): number | null => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
};

/** The victim: searches at its pace until the deadline; returns each one's time in ms. */
async function searchUntil(client: Client, deadline: number, qs: readonly string[]): Promise<{ ms: number[]; errors: number }> {
  const ms: number[] = [];
  let errors = 0;
  const every = 1000 / VICTIM_PER_SECOND;
  for (let i = 0, next = performance.now(); performance.now() < deadline; i++, next += every) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = performance.now();
    try {
      const result = await client.callTool({ name: 'search_memory', arguments: { query: qs[i % qs.length], limit: 10 } });
      if (result.isError) errors += 1;
      else ms.push(performance.now() - started);
    } catch {
      errors += 1;
    }
  }
  return { ms, errors };
}

/** Open an attacker session with raw requests (no SDK client: it would not send such batches). */
async function rawSession(origin: string, key: string): Promise<Record<string, string>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` };
  const init = await fetch(`${origin}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'attacker', version: '1' } } }),
  });
  await init.text();
  const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-06-18' };
  await (await fetch(`${origin}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  return session;
}

/**
 * The attack: POSTs at the pattern's pace, never waiting for answers; returns
 * what they got once every answer has finished or 5 s have passed, with a
 * way to give up on those still open (the caller counts the server's open
 * descriptors first: a response that never finishes holds one).
 */
async function attack(origin: string, session: Record<string, string>, until: number, pattern: Pattern, qs: readonly string[]) {
  const statuses = new Map<string, number>();
  const pending: Array<Promise<void>> = [];
  const abort = new AbortController();
  let posts = 0;
  let requests = 0;
  let nextId = 1_000_000;
  const search = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'search_memory', arguments: { query: qs[id % qs.length], limit: 50 } } });
  const cancel = (requestId: number) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } });
  while (performance.now() < until) {
    const shared = posts % 2 === 0;
    const ids = Array.from({ length: pattern.searches }, () => (shared ? 7 : nextId++));
    const body = [...ids.map(search), ...ids.map(cancel)];
    posts += 1;
    requests += pattern.searches;
    pending.push(
      fetch(`${origin}/mcp`, { method: 'POST', headers: session, body: JSON.stringify(body), signal: abort.signal })
        .then(async (res) => {
          // Counted once the whole response has arrived: an answer that never finishes is not one.
          await res.text();
          const key = String(res.status);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        })
        .catch(() => {
          statuses.set('never_finished', (statuses.get('never_finished') ?? 0) + 1);
        }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000 / pattern.postsPerSecond));
  }
  await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 5000))]);
  const stillOpen = () => pending.length - [...statuses.values()].reduce((a, b) => a + b, 0);
  return {
    sent: { posts, requests },
    open: stillOpen(),
    async giveUp() {
      abort.abort();
      await Promise.all(pending);
      return Object.fromEntries(statuses);
    },
  };
}

export async function runAbuse(options: AbuseOptions): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pinak-abuse-'));
  const victimKey = createKey(dataDir, 'victim', 'writer');
  const seederKey = createKey(dataDir, 'attacker', 'writer');
  const attackerKey = createKey(dataDir, 'attacker', 'reader');
  const server = await startServer(dataDir);
  try {
    log(`seeding ${options.memories} memories in each tenant`);
    const victim = await connect(server.origin, victimKey, 'victim');
    const seeder = await connect(server.origin, seederKey, 'seeder');
    await seed(victim, options.memories, 42);
    await seed(seeder, options.memories, 43);
    // Every vector in both graphs first: the graph being built would otherwise be measured too.
    await waitForIndex(seeder);
    await waitForIndex(victim);
    await seeder.close();
    const qs = queries(200, 11);
    // Warm up, then the victim alone.
    await searchUntil(victim, performance.now() + 2000, qs);
    log(`victim alone for ${options.aloneSeconds} s`);
    const alone = await searchUntil(victim, performance.now() + options.aloneSeconds * 1000, qs);

    const attackerDb = join(dataDir, 'tenants', 'attacker', 'pinak.db');
    const session = await rawSession(server.origin, attackerKey);
    const fdsBefore = openFds(server.pid);
    const aloneStats = summarize(alone.ms);
    const attacks: Result = {};
    for (const pattern of PATTERNS) {
      const sizeBefore = databaseSize(attackerDb);
      log(`attack "${pattern.name}" for ${options.seconds} s: ${pattern.postsPerSecond} POSTs a second of ${pattern.searches} searches and their cancellations`);
      const until = performance.now() + options.seconds * 1000;
      const [underAttack, attacked] = await Promise.all([searchUntil(victim, until, qs), attack(server.origin, session, until, pattern, qs)]);
      const fdsWhileClientWaits = openFds(server.pid);
      const statuses = await attacked.giveUp();
      const sent = { ...attacked.sent, statuses, responses_open_5s_after: attacked.open, server_fds_then: fdsWhileClientWaits };
      // Let the key's bucket refill before the next attack or the end.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const sizeAfter = databaseSize(attackerDb);
      const growth = sizeAfter.logical_bytes - sizeBefore.logical_bytes;
      const stats = summarize(underAttack.ms);
      attacks[pattern.name] = {
        pattern,
        victim: { ...stats, errors: underAttack.errors, p50_ratio: Math.round((stats.p50 / aloneStats.p50) * 100) / 100, p99_ratio: Math.round((stats.p99 / aloneStats.p99) * 100) / 100 },
        attacker: {
          ...sent,
          logical_growth_bytes: growth,
          growth_per_post_bytes: Math.round(growth / Math.max(1, sent.posts)),
          growth_per_request_bytes: Math.round((growth / Math.max(1, sent.requests)) * 100) / 100,
          wal_growth_bytes: sizeAfter.wal_bytes - sizeBefore.wal_bytes,
        },
        goals: {
          victim_p50_at_most_2x: stats.p50 <= 2 * aloneStats.p50,
          growth_at_most_1kb_per_call: growth <= 1024 * Math.max(1, sent.requests),
          every_response_finished: attacked.open === 0,
        },
      };
    }
    const fdsAfter = openFds(server.pid);
    await victim.close();
    return {
      machine: describeMachine(),
      options,
      victim_alone: { ...aloneStats, errors: alone.errors },
      attacks,
      open_fds: { before_attacks: fdsBefore, after_attacks: fdsAfter, back_to_baseline: fdsBefore !== null && fdsAfter !== null && fdsAfter <= fdsBefore + 2 },
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '30' },
      'alone-seconds': { type: 'string', default: '10' },
      memories: { type: 'string', default: '2000' },
    },
  });
  buildIfStale();
  const report = await runAbuse({
    seconds: Number(values.seconds),
    aloneSeconds: Number(values['alone-seconds']),
    memories: Number(values.memories),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:abuse failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
