import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/auth-clients.js';
import { JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { rawRequest, type HttpServer } from '../helpers/spawn-http.js';
import { runCli } from '../helpers/spawn-server.js';

/**
 * Two server processes behind a round-robin balancer share each key's
 * budget: with its buckets in PostgreSQL (both on one database) or in Redis,
 * requests spread over both servers get exactly the configured burst
 * through, not twice it. With Redis stopped, requests are still answered
 * (each server counting on its own, one warning each); with Redis back,
 * the budget is shared again.
 */
const { tempDataDir, start } = useHttpHarness('pinak-shared-limit-', { args: ['--embed-model', 'none', '--auth', 'keys'] });

/** One token a minute, ten at once: nothing refills within a test. */
const LIMITS = ['--rate-limit-per-minute', '1', '--rate-limit-burst', '10'];
const BURST = 10;

let database: FreshDatabase;
let redis: TestRedis;

beforeAll(async () => {
  database = await freshDatabase();
  redis = await startRedis();
});

afterAll(async () => {
  await database?.drop();
  await redis?.stop();
});

/**
 * A request the gate charges that takes no session place: a ping without a
 * session, refused with 400 where sessions live in the process, answered on
 * its own (stateless, 200) where they live in the database.
 */
const ping = (server: HttpServer, key: string) =>
  rawRequest(server.port, {
    method: 'POST',
    path: '/mcp',
    headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer ${key}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });

/** `count` requests, one after the other, to the servers in turn (round robin); their statuses per server. */
async function roundRobin(servers: HttpServer[], key: string, count: number): Promise<{ statuses: number[]; admitted: number[] }> {
  const statuses: number[] = [];
  const admitted = servers.map(() => 0);
  for (let i = 0; i < count; i += 1) {
    const response = await ping(servers[i % servers.length]!, key);
    statuses.push(response.status);
    if (response.status !== 429) admitted[i % servers.length] = (admitted[i % servers.length] ?? 0) + 1;
  }
  return { statuses, admitted };
}

const admittedCount = (statuses: number[]): number => statuses.filter((status) => status !== 429).length;
const linesOf = (server: HttpServer, pattern: RegExp): string[] => server.stderr().split('\n').filter((line) => pattern.test(line));

async function waitFor(what: string, ms: number, step: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await step())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('one key, two servers, one budget', () => {
  it('in PostgreSQL: of 30 requests spread over two servers on one database, exactly the burst gets through', async () => {
    const url = database.url;
    const { key } = createKey(tempDataDir(), ['--tenant', 'acme', '--role', 'reader', '--database-url', url]);
    const servers = [await start(tempDataDir(), ['--database-url', url, ...LIMITS]), await start(tempDataDir(), ['--database-url', url, ...LIMITS])];
    for (const server of servers) expect(linesOf(server, /counted in PostgreSQL, shared by every server on the database/)).toHaveLength(1);

    const { statuses, admitted } = await roundRobin(servers, key, 30);
    expect(admittedCount(statuses)).toBe(BURST);
    expect(admitted).toEqual([BURST / 2, BURST / 2]);
    expect(statuses.filter((status) => status !== 429).every((status) => status === 200)).toBe(true);
    const refused = await ping(servers[1]!, key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(50);
    expect(refused.json()).toMatchObject({ error: { message: expect.stringMatching(/^Too Many Requests: this key may send 1 requests a minute \(bursts of 10/) } });
  });

  it('in Redis: exactly the burst through two servers; Redis stopped, every request answered from each server\'s own buckets with one warning each; Redis back, one budget again', async () => {
    const dir = tempDataDir();
    const { key } = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const probeKey = createKey(dir, ['--tenant', 'acme', '--role', 'reader']).key;
    const env = { PINAK_REDIS_URL: redis.url };
    // Two servers on one data directory (its keys.db), each with its own buckets but for Redis.
    const servers = [await start(dir, LIMITS, env), await start(dir, LIMITS, env)];
    for (const server of servers) expect(linesOf(server, /counted in Redis at redis:\/\/127\.0\.0\.1:\d+, shared by every server using it/)).toHaveLength(1);

    const shared = await roundRobin(servers, key, 30);
    expect(admittedCount(shared.statuses)).toBe(BURST);
    expect(shared.admitted).toEqual([BURST / 2, BURST / 2]);

    await redis.halt();
    const alone = await roundRobin(servers, key, 40);
    // Every request answered: a burst from each server's own bucket, then 429; nothing failed.
    expect(alone.statuses.every((status) => status === 400 || status === 429)).toBe(true);
    expect(alone.admitted).toEqual([BURST, BURST]);
    const warning = /rate limits: Redis at redis:\/\/127\.0\.0\.1:\d+ cannot be reached .*counting each key's requests in each server's memory until it answers/;
    for (const server of servers) expect(linesOf(server, warning)).toHaveLength(1);

    await redis.resume();
    // Requests of another key reach each server until both have found Redis again.
    await waitFor('both servers back on Redis', 15_000, async () => {
      await roundRobin(servers, probeKey, 2);
      return servers.every((server) => linesOf(server, /rate limits: Redis at .* answers again/).length === 1);
    });
    // The restarted Redis is empty: the key's bucket there is full, and shared again.
    const again = await roundRobin(servers, key, 30);
    expect(admittedCount(again.statuses)).toBe(BURST);
    expect(again.admitted).toEqual([BURST / 2, BURST / 2]);
    for (const server of servers) expect(linesOf(server, warning)).toHaveLength(1);
    expect(redis.cli('KEYS', 'pinak-memory:rate:*').split('\n')).toHaveLength(2);
  });
});

describe('the Redis URL setting', () => {
  it('is refused over stdio, and when malformed, in one line with exit code 1 and its password hidden', () => {
    const dir = tempDataDir();
    const stdio = runCli(['--data-dir', dir, '--redis-url', 'redis://:hunter2@cache:6379']);
    expect([stdio.status, stdio.stdout, stdio.stderr]).toEqual([1, '', 'pinak-memory: --redis-url (PINAK_REDIS_URL) keeps the HTTP per-key rate limits, and stdio has none: leave it out, or serve with --transport http\n']);
    const fromEnv = runCli(['--data-dir', dir], { PINAK_REDIS_URL: 'redis://cache' });
    expect([fromEnv.status, fromEnv.stderr]).toEqual([1, expect.stringContaining('stdio has none')]);
    const malformed = runCli(['--data-dir', dir, '--transport', 'http', '--redis-url', 'redis://:hunter2@cache/zero']);
    expect([malformed.status, malformed.stdout, malformed.stderr]).toEqual([1, '', 'pinak-memory: invalid flag --redis-url ("redis://:***@cache/zero"): expected a redis:// or rediss:// URL with a host (redis://user:password@host:6379/0)\n']);
    const help = runCli(['serve', '--help']);
    expect(help.stdout).toMatch(/--redis-url VALUE +PINAK_REDIS_URL\n +HTTP: count each key's requests in this Redis/);
  });
});
