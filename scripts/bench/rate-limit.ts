/**
 * What the per-key rate limit costs a request in each home of its buckets:
 * this process's memory, PostgreSQL (the shared schema's unlogged table, on
 * the key store's pool of 4), and Redis (one EVALSHA). For each: `take()`
 * latency one at a time (p50/p95/p99), then with many requests at once
 * (latency and takes a second). Beside them, PostgreSQL's key check (the
 * indexed read every request with an API key already makes), as a yardstick.
 *
 *   npm run bench:rate-limit -- --database-url postgres://… [--redis-url redis://…] [--takes 5000] [--keys 100] [--concurrency 16]
 *
 * Without --redis-url, a redis-server from the PATH is started on a free
 * loopback port (no persistence) and stopped at the end. The PostgreSQL
 * measurements run in a database made for the run (dropped after) when the
 * role may create one, else in the given database, whose bench rows are
 * deleted after. Prints JSON.
 */
import { parseArgs } from 'node:util';
import { openSharedPool, PostgresKeyStore } from '../../src/auth/postgres-key-store.js';
import { PostgresKeyLimiter, RATE_BUCKETS } from '../../src/auth/postgres-rate-limiter.js';
import { MemoryKeyLimiter, type KeyRateLimiter } from '../../src/auth/rate-limiter.js';
import { RedisKeyLimiter } from '../../src/auth/redis-rate-limiter.js';
import { isPostgresUrl, isRedisUrl, redactDatabaseUrl } from '../../src/domain/database-url.js';
import { startRedis, type TestRedis } from '../lib/redis-server.js';
import { benchDatabase, describePostgres } from './postgres.js';
import { describeMachine, summarize } from './stats.js';

function fail(message: string): never {
  process.stderr.write(`bench:rate-limit: ${message}\n`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    takes: { type: 'string', default: '5000' },
    keys: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
  },
});
const whole = (name: string, text: string, min: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${name} needs a whole number of at least ${min}, got ${JSON.stringify(text)}`);
  return n;
};
const takes = whole('takes', values.takes, 100);
const keys = whole('keys', values.keys, 1);
const concurrency = whole('concurrency', values.concurrency, 1);
const databaseUrl = values['database-url'];
if (databaseUrl === undefined || !isPostgresUrl(databaseUrl)) fail('give --database-url postgres://… (a PostgreSQL server to measure on)');
const redisUrl = values['redis-url'];
if (redisUrl !== undefined && !isRedisUrl(redisUrl)) fail(`--redis-url needs a redis:// or rediss:// URL, got ${JSON.stringify(redactDatabaseUrl(redisUrl))}`);

/** Generous limits: every take does the full work (refill, spend, write), and most are granted. */
const PER_MINUTE = 1_000_000;
const BURST = 1_000_000;
const ids = Array.from({ length: keys }, (_, i) => `bench-${process.pid}-${i}`);

/** `count` takes one after the other, then `count` takes `concurrency` at a time: latencies, and takes a second under load. */
async function measure(run: (id: string, i: number) => Promise<unknown>): Promise<Record<string, unknown>> {
  for (let i = 0; i < Math.min(200, takes); i += 1) await run(ids[i % keys]!, i); // warm-up: connections, plans, scripts
  const sequential: number[] = [];
  for (let i = 0; i < takes; i += 1) {
    const started = performance.now();
    await run(ids[i % keys]!, i);
    sequential.push(performance.now() - started);
  }
  const loaded: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < takes; i = next++) {
        const t = performance.now();
        await run(ids[i % keys]!, i);
        loaded.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { one_at_a_time_ms: summarize(sequential), [`${concurrency}_at_once_ms`]: summarize(loaded), takes_per_second_at_once: Math.round(takes / seconds) };
}

const takeWith = (limiter: KeyRateLimiter) => async (id: string): Promise<void> => {
  const taken = await limiter.take(id);
  if (!taken.ok) throw new Error('a take was refused: the limits are meant to let every take through');
};

const results: Record<string, unknown> = {};
results.memory = await measure(takeWith(new MemoryKeyLimiter(PER_MINUTE, BURST)));

const database = await benchDatabase(databaseUrl, 'rate_limit');
try {
  const pool = await openSharedPool({ url: database.url });
  try {
    results.postgres = await measure(takeWith(new PostgresKeyLimiter(pool, PER_MINUTE, BURST)));
    const keyStore = await PostgresKeyStore.open({ url: database.url });
    try {
      const unknown = `pk_${'A'.repeat(43)}`;
      results.postgres_key_check_for_comparison = await measure(async () => keyStore.check(unknown, new Date()));
    } finally {
      await keyStore.close();
    }
    if (!database.created) await pool.query(`DELETE FROM ${RATE_BUCKETS} WHERE id LIKE $1`, [`bench-${process.pid}-%`]);
  } finally {
    await pool.end();
  }
} finally {
  await database.drop();
}

let ownRedis: TestRedis | null = null;
try {
  const url = redisUrl ?? (ownRedis = await startRedis()).url;
  const { limiter, connected, reason } = await RedisKeyLimiter.open({ url }, PER_MINUTE, BURST);
  try {
    if (!connected) fail(`cannot reach Redis at ${redactDatabaseUrl(url)}: ${reason}`);
    // Its keys expire by themselves, a minute after (the TTL of a full refill).
    results.redis = await measure(takeWith(limiter));
  } finally {
    await limiter.close();
  }
} finally {
  await ownRedis?.stop();
}

const report = {
  machine: describeMachine(),
  postgres: await describePostgres(databaseUrl),
  redis: redisUrl !== undefined ? redactDatabaseUrl(redisUrl) : 'redis-server started for the run on 127.0.0.1 (no persistence)',
  takes,
  keys,
  concurrency,
  results,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
