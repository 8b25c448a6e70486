import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSharedPool } from '../../src/auth/postgres-key-store.js';
import { PostgresKeyLimiter, RATE_BUCKETS } from '../../src/auth/postgres-rate-limiter.js';
import { MemoryKeyLimiter, type KeyRateLimiter, type Taken } from '../../src/auth/rate-limiter.js';
import { openKeyRateLimiter } from '../../src/auth/open-rate-limiter.js';
import { REDIS_KEY_PREFIX, RedisKeyLimiter } from '../../src/auth/redis-rate-limiter.js';
import { debianClusterVersion, freePort, startDebianCluster } from '../helpers/pg-cluster.js';
import { freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

/**
 * The per-key token bucket, one contract for its three homes: this
 * process's memory, the shared PostgreSQL schema, and Redis. Then what
 * sharing means (two limiters on one store split one budget, however many
 * takes race), and what happens when the store goes away and comes back.
 */

let database: FreshDatabase;
let pool: pg.Pool;
let redis: TestRedis;
const opened: KeyRateLimiter[] = [];

beforeAll(async () => {
  database = await freshDatabase();
  pool = await openSharedPool({ url: database.url });
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(opened.map((limiter) => limiter.close()));
  await pool?.end();
  await database?.drop();
  await redis?.stop();
});

let ids = 0;
/** A key id no other case uses (the stores outlive each case). */
const freshId = (): string => `key-${process.pid}-${(ids += 1)}`;

async function openRedisLimiter(perMinute: number, burst: number): Promise<KeyRateLimiter> {
  const { limiter, connected } = await RedisKeyLimiter.open({ url: redis.url }, perMinute, burst);
  opened.push(limiter);
  expect(connected).toBe(true);
  return limiter;
}

const HOMES: Record<string, (perMinute: number, burst: number) => Promise<KeyRateLimiter>> = {
  memory: async (perMinute, burst) => new MemoryKeyLimiter(perMinute, burst),
  postgres: async (perMinute, burst) => new PostgresKeyLimiter(pool, perMinute, burst),
  redis: openRedisLimiter,
};

const oks = (results: Taken[]): boolean[] => results.map((r) => r.ok);

async function takeInTurn(limiter: KeyRateLimiter, id: string, times: number, count = 1): Promise<Taken[]> {
  const results: Taken[] = [];
  for (let i = 0; i < times; i += 1) results.push(await limiter.take(id, count));
  return results;
}

describe.each(Object.keys(HOMES))('the per-key token bucket in %s', (home) => {
  const open = HOMES[home]!;

  it('lets a burst through, then refuses with the seconds until a token is back; each key has its own bucket', async () => {
    // One token a second: the few milliseconds between takes refill far less than one.
    const limiter = await open(60, 3);
    const [a, b] = [freshId(), freshId()];
    expect(oks(await takeInTurn(limiter, a, 3))).toEqual([true, true, true]);
    expect(await limiter.take(a)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(await limiter.take(a, 3)).toEqual({ ok: false, retryAfterSeconds: 3 });
    expect((await limiter.take(b)).ok).toBe(true);
  });

  it('charges a batch as its size, refuses one larger than the burst with the time a full bucket takes, and a refusal spends nothing', async () => {
    const limiter = await open(60, 5);
    const id = freshId();
    expect(await limiter.take(id, 6)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(await limiter.take(id, 4)).toEqual({ ok: true });
    expect((await limiter.take(id, 2)).ok).toBe(false);
    expect(await limiter.take(id, 1)).toEqual({ ok: true });
    const slow = await open(2, 1);
    const other = freshId();
    expect((await slow.take(other)).ok).toBe(true);
    expect(await slow.take(other)).toEqual({ ok: false, retryAfterSeconds: 30 });
  });

  it('refills with time, never beyond the burst', async () => {
    const limiter = await open(60, 2);
    const id = freshId();
    expect(oks(await takeInTurn(limiter, id, 3))).toEqual([true, true, false]);
    await sleep(1100);
    expect(oks(await takeInTurn(limiter, id, 2))).toEqual([true, false]);
    await sleep(2300);
    expect(oks(await takeInTurn(limiter, id, 3))).toEqual([true, true, false]);
  });

  it('is off at 0 a minute', async () => {
    const limiter = await open(0, 1);
    const id = freshId();
    expect(oks(await takeInTurn(limiter, id, 20))).toEqual(Array(20).fill(true));
  });
});

describe.each(['postgres', 'redis'])('buckets shared in %s', (home) => {
  const open = HOMES[home]!;

  it('two limiters on one store split one budget: of 60 takes racing through both, exactly the burst is granted', async () => {
    const [first, second] = [await open(1, 10), await open(1, 10)];
    const id = freshId();
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? first : second).take(id)));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    // One token a minute: the next comes about a minute after the first take (less what the race itself took).
    for (const refused of results.filter((r) => !r.ok)) expect(refused.ok === false && refused.retryAfterSeconds).toBeGreaterThanOrEqual(50);
    for (const refused of results.filter((r) => !r.ok)) expect(refused.ok === false && refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });
});

describe('what the stores keep', () => {
  it('Redis: one hash per key under the prefix, expiring once it would be full again', async () => {
    const limiter = await openRedisLimiter(60, 30);
    const id = freshId();
    await limiter.take(id);
    const key = `${REDIS_KEY_PREFIX}${id}`;
    expect(redis.cli('TYPE', key)).toBe('hash');
    const ttl = Number(redis.cli('PTTL', key));
    // 30 tokens at one a second refill in 30 s, plus a second's margin.
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(31_000);
    expect(redis.cli('KEYS', '*').split('\n').every((name) => name.startsWith(REDIS_KEY_PREFIX))).toBe(true);
  });

  it('PostgreSQL: one row per key in the shared schema; rows of buckets that have refilled are deleted', async () => {
    const limiter = new PostgresKeyLimiter(pool, 60, 5);
    const stale = freshId();
    await pool.query(`INSERT INTO ${RATE_BUCKETS} (id, tokens, at, granted) VALUES ($1, 0, extract(epoch FROM clock_timestamp()) - 10, true)`, [stale]);
    const id = freshId();
    await limiter.take(id);
    // A new limiter deletes idle rows with its first take, in the background.
    const deadline = Date.now() + 5000;
    let left: string[] = [];
    do {
      left = (await pool.query<{ id: string }>(`SELECT id FROM ${RATE_BUCKETS} WHERE id = ANY($1::text[])`, [[stale, id]])).rows.map((r) => r.id);
      if (!left.includes(stale)) break;
      await sleep(50);
    } while (Date.now() < deadline);
    expect(left).toEqual([id]);
  });
});

/** A logger whose lines the test reads. */
function capturedLogger(): { logger: pino.Logger; lines: () => Array<{ level: number; msg: string }> } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }) };
}

const WARN = 40;
/** How long a take may take while its store is away: the bounded wait, with room for a busy machine. */
const FAIL_FAST_MS = 3000;

async function timedTake(limiter: KeyRateLimiter, id: string): Promise<{ taken: Taken; ms: number }> {
  const started = performance.now();
  const taken = await limiter.take(id);
  return { taken, ms: performance.now() - started };
}

async function waitFor(what: string, ms: number, done: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

describe('when the shared store cannot be reached', () => {
  it('Redis stopped: takes are answered from PostgreSQL at once, one warning in all; restarted: Redis counts again', async () => {
    const own = await startRedis();
    try {
      const { logger, lines } = capturedLogger();
      const limiter = await openKeyRateLimiter({ perMinute: 1, burst: 5, pool, redisUrl: own.url }, logger);
      opened.push(limiter);
      expect(lines().map((l) => l.msg)).toEqual([expect.stringMatching(/counted in Redis at redis:\/\/127\.0\.0\.1:\d+, shared/)]);
      const id = freshId();
      expect((await limiter.take(id)).ok).toBe(true);
      expect(own.cli('HGET', `${REDIS_KEY_PREFIX}${id}`, 'tokens')).toMatch(/^4(\.|$)/);

      await own.halt();
      const during = [];
      for (let i = 0; i < 8; i += 1) during.push(await timedTake(limiter, id));
      // PostgreSQL had never seen this key: its bucket starts full, and five of the eight get through.
      expect(during.map((t) => t.taken.ok)).toEqual([true, true, true, true, true, false, false, false]);
      for (const { ms } of during) expect(ms).toBeLessThan(FAIL_FAST_MS);
      expect((await pool.query(`SELECT 1 FROM ${RATE_BUCKETS} WHERE id = $1`, [id])).rowCount).toBe(1);
      const warnings = lines().filter((l) => l.level === WARN);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/^rate limits: Redis at redis:\/\/127\.0\.0\.1:\d+ cannot be reached \(.+\); counting each key's requests in PostgreSQL until it answers$/);

      await own.resume();
      // Requests of another key go on meanwhile: once a second, one of them also tries Redis, in the background.
      const other = freshId();
      await waitFor('Redis used again', 10_000, async () => {
        await limiter.take(other);
        return lines().some((l) => /^rate limits: Redis at .* answers again/.test(l.msg));
      });
      expect(own.cli('EXISTS', `${REDIS_KEY_PREFIX}${other}`)).toBe('1');
      // The restarted Redis is empty: the first key starts full there.
      expect(oks(await takeInTurn(limiter, id, 6))).toEqual([true, true, true, true, true, false]);
      expect(lines().filter((l) => l.level === WARN)).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  it('Redis frozen (connected, answering nothing): the takes that found it so are answered from PostgreSQL after the command timeout, later ones at once; one warning; thawed: Redis counts again', async () => {
    const own = await startRedis();
    try {
      const { logger, lines } = capturedLogger();
      const limiter = await openKeyRateLimiter({ perMinute: 1, burst: 5, pool, redisUrl: own.url }, logger);
      opened.push(limiter);
      const id = freshId();
      expect((await limiter.take(id)).ok).toBe(true);
      own.freeze();
      // Those sent while Redis seemed up wait for its answer until the command timeout, then PostgreSQL answers; later ones go straight there.
      const during = await Promise.all(Array.from({ length: 4 }, () => timedTake(limiter, id)));
      during.push(await timedTake(limiter, id));
      expect(during.map((t) => t.taken.ok)).toEqual([true, true, true, true, true]);
      for (const { ms } of during) expect(ms).toBeLessThan(FAIL_FAST_MS);
      expect(lines().filter((l) => l.level === WARN)).toHaveLength(1);
      // While it stays frozen, no request waits for it: the background try alone does.
      await sleep(1100);
      const later = [];
      for (let i = 0; i < 3; i += 1) later.push(await timedTake(limiter, freshId()));
      for (const { ms } of later) expect(ms).toBeLessThan(100);
      own.thaw();
      const other = freshId();
      await waitFor('Redis used again', 10_000, async () => {
        await limiter.take(other);
        return lines().some((l) => /^rate limits: Redis at .* answers again/.test(l.msg));
      });
      const after = freshId();
      await limiter.take(after);
      expect(own.cli('HGET', `${REDIS_KEY_PREFIX}${after}`, 'tokens')).toBe('4');
      expect(lines().filter((l) => l.level === WARN)).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  it('Redis not there at start: the limiter opens within the connect timeout, says so once (password hidden), and counts in memory at once', async () => {
    const port = await freePort();
    const { logger, lines } = capturedLogger();
    const started = performance.now();
    const limiter = await openKeyRateLimiter({ perMinute: 1, burst: 2, redisUrl: `redis://:secret-pass@127.0.0.1:${port}/3` }, logger);
    opened.push(limiter);
    expect(performance.now() - started).toBeLessThan(FAIL_FAST_MS);
    const id = freshId();
    const takes = [];
    for (let i = 0; i < 3; i += 1) takes.push(await timedTake(limiter, id));
    expect(takes.map((t) => t.taken.ok)).toEqual([true, true, false]);
    for (const { ms } of takes) expect(ms).toBeLessThan(50);
    const warnings = lines().filter((l) => l.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`Redis at redis://:***@127.0.0.1:${port}/3 cannot be reached`);
    expect(warnings[0]!.msg).toContain("counting each key's requests in each server's memory");
    expect(JSON.stringify(lines())).not.toContain('secret-pass');
  });

  it.skipIf(debianClusterVersion() === null)('PostgreSQL stopped: takes are answered from this process at once, one warning; restarted: PostgreSQL counts again', async () => {
    const cluster = await startDebianCluster(debianClusterVersion()!);
    const own = await openSharedPool({ url: cluster.url, connectTimeoutMs: 1000 });
    try {
      const { logger, lines } = capturedLogger();
      const limiter = await openKeyRateLimiter({ perMinute: 1, burst: 3, pool: own }, logger);
      const id = freshId();
      expect((await limiter.take(id)).ok).toBe(true);

      await cluster.halt();
      const during = [];
      for (let i = 0; i < 6; i += 1) during.push(await timedTake(limiter, id));
      expect(during.map((t) => t.taken.ok)).toEqual([true, true, true, false, false, false]);
      for (const { ms } of during) expect(ms).toBeLessThan(FAIL_FAST_MS);
      const warnings = lines().filter((l) => l.level === WARN);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/^rate limits: PostgreSQL cannot be reached \(.+\); counting each key's requests in each server's memory until it answers$/);

      await cluster.resume();
      await waitFor('PostgreSQL used again', 15_000, async () => {
        await limiter.take(id);
        return lines().some((l) => /^rate limits: PostgreSQL answers again/.test(l.msg));
      });
      // A new key's take is counted there again; the first key's row kept through the restart (a clean stop).
      const after = freshId();
      expect((await limiter.take(after)).ok).toBe(true);
      const rows = await own.query<{ id: string; tokens: number }>(`SELECT id, tokens FROM ${RATE_BUCKETS} WHERE id = ANY($1::text[]) ORDER BY id`, [[id, after]]);
      expect(rows.rows.map((r) => r.id).sort()).toEqual([id, after].sort());
      expect(rows.rows.find((r) => r.id === after)!.tokens).toBe(2);
      expect(lines().filter((l) => l.level === WARN)).toHaveLength(1);
    } finally {
      await own.end().catch(() => {});
      cluster.stop();
    }
  });
});
