import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/auth-clients.js';
import { startHaproxy, type Haproxy } from '../helpers/haproxy.js';
import { freshDatabase } from '../helpers/postgres.js';
import { startRedis } from '../helpers/redis-server.js';
import { seededRandom } from '../helpers/sentences.js';
import { rawRequest, spawnHttp, type HttpServer } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The deployment of docs/deploy.md, for real on one machine: three server
 * processes on one PostgreSQL database (and, in one run, one Redis) behind
 * haproxy with the shipped rules, round robin, no sticky sessions. Twenty
 * MCP clients call tools through the proxy for a minute while one replica is
 * killed with SIGKILL at a random moment and started again two seconds later.
 */
const REPLICAS = 3;
const CLIENTS = 20;
const LOAD_MS = 60_000;
/** Each client starts a call at most this often: 20 clients on 5 keys stay under each key's rate. */
const PACE_MS = 300;
const KEYS = 5;
/** Each key's rate: 20 a second, bursts of 20. */
const PER_MINUTE = 1200;
const BURST = 20;
/** Requests sent at once by the client measuring the rate limit, and how many in all. */
const BLAST_LANES = 10;
const BLAST = 150;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Acknowledged {
  id: string;
  marker: string;
}

interface Failure {
  client: number;
  at: number;
  message: string;
}

const headersFor = (key: string) => ({ authorization: `Bearer ${key}` });

async function proxiedClient(proxy: Haproxy, key: string, name: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', proxy.url), { requestInit: { headers: headersFor(key) } });
  const client = new Client({ name, version: '1' });
  await client.connect(transport);
  return { client, transport };
}

/**
 * One key's requests sent as fast as `BLAST_LANES` lanes allow, through the
 * proxy (so spread over every replica), each a tools/list in one session:
 * how many were let through, and over how long.
 */
async function blast(proxy: Haproxy, key: string): Promise<{ passed: number; limited: number; other: number[]; seconds: number }> {
  const { transport } = await proxiedClient(proxy, key, 'blaster');
  const headers = { ...headersFor(key), 'mcp-session-id': transport.sessionId!, accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' };
  let next = 0;
  let passed = 0;
  let limited = 0;
  const other: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: BLAST_LANES }, async () => {
      while (next < BLAST) {
        const id = next++;
        const answer = await rawRequest(proxy.port, { path: '/mcp', method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params: {} }) });
        if (answer.status === 200) passed += 1;
        else if (answer.status === 429) limited += 1;
        else other.push(answer.status);
      }
    }),
  );
  return { passed, limited, other, seconds: (performance.now() - started) / 1000 };
}

describe.each([
  { title: 'rate limits in PostgreSQL', redis: false },
  { title: 'rate limits in Redis', redis: true },
])('three replicas behind haproxy, $title', ({ redis: withRedis }) => {
  it(`${CLIENTS} clients for ${LOAD_MS / 1000} s with one replica killed and restarted: every acknowledged write is found, only calls in flight on the killed replica fail, and a key's rate limit holds once for the deployment`, async () => {
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    const redis = withRedis ? await startRedis() : null;
    if (redis) cleanups.push(() => redis.stop());
    const keyDir = makeTempDir('pinak-proxy-keys-');
    cleanups.push(keyDir.cleanup);
    const dirs = Array.from({ length: REPLICAS }, () => {
      const temp = makeTempDir('pinak-proxy-replica-');
      cleanups.push(temp.cleanup);
      return temp.dir;
    });
    const onDatabase = ['--database-url', database.url];
    const keys = Array.from({ length: KEYS }, () => createKey(keyDir.dir, ['--tenant', 'acme', '--role', 'writer', ...onDatabase]).key);
    const limitKey = createKey(keyDir.dir, ['--tenant', 'acme', '--role', 'reader', ...onDatabase]).key;
    const args = (i: number): string[] => [
      ...onDatabase, '--embed-model', 'none', '--auth', 'keys', '--replica-name', `pinak${i + 1}`,
      '--rate-limit-per-minute', String(PER_MINUTE), '--rate-limit-burst', String(BURST), '--max-sessions-per-key', '50',
      // Clients name the proxy's port in their Host header.
      '--allowed-hosts', '127.0.0.1',
    ];
    const env: Record<string, string> = redis ? { PINAK_REDIS_URL: redis.url } : {};
    const replicas: HttpServer[] = await Promise.all(dirs.map((dir, i) => spawnHttp(dir, args(i), env)));
    const logs: Array<() => string> = replicas.map((replica) => replica.stderr);
    cleanups.push(() => Promise.all(replicas.map((replica) => replica.stop())));
    const proxy = await startHaproxy(replicas.map((replica, i) => ({ name: `pinak${i + 1}`, port: replica.port })));
    cleanups.push(() => proxy.stop());

    const sessions = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => proxiedClient(proxy, keys[i % KEYS]!, `load-${i}`)));
    cleanups.push(() => Promise.all(sessions.map(({ client }) => client.close())));
    const sessionIds = sessions.map(({ transport }) => transport.sessionId);

    const seed = Date.now() % 100_000;
    const random = seededRandom(seed);
    const victim = Math.floor(random() * REPLICAS);
    const killAfterMs = 15_000 + Math.floor(random() * 30_000);
    const acknowledged: Acknowledged[] = [];
    const failures: Failure[] = [];
    const successesAfterKill = new Array<number>(CLIENTS).fill(0);
    let killedAt = Number.POSITIVE_INFINITY;
    let restartedAt = Number.POSITIVE_INFINITY;
    const started = Date.now();
    const deadline = started + LOAD_MS;

    const killer = (async () => {
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      const port = replicas[victim]!.port;
      killedAt = Date.now();
      await replicas[victim]!.stop('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      // The same name and port: the proxy's configuration names it, and its health checks bring it back.
      replicas[victim] = await spawnHttp(dirs[victim]!, [...args(victim), '--port', String(port)], env);
      logs.push(replicas[victim]!.stderr);
      restartedAt = Date.now();
    })();

    const limits = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      return blast(proxy, limitKey);
    })();

    await Promise.all(
      sessions.map(async ({ client }, c) => {
        for (let n = 0; Date.now() < deadline; n += 1) {
          const callStarted = Date.now();
          try {
            if (n % 3 === 0 || acknowledged.length === 0) {
              const marker = `px${seed}c${c}n${n}z`;
              const result = await client.callTool({ name: 'remember', arguments: { content: `note ${n} of client ${c} through the proxy ${marker}` } });
              if (result.isError) throw new Error(JSON.stringify(result.content));
              acknowledged.push({ id: (result.structuredContent as { stored: Array<{ id: string }> }).stored[0]!.id, marker });
            } else {
              const known = acknowledged[Math.floor(random() * acknowledged.length)]!;
              const name = n % 3 === 1 ? 'search_memory' : 'get_memory';
              const result = await client.callTool({ name, arguments: name === 'search_memory' ? { query: known.marker, mode: 'keyword' } : { ids: [known.id] } });
              if (result.isError) throw new Error(JSON.stringify(result.content));
            }
            if (callStarted > killedAt) successesAfterKill[c]! += 1;
          } catch (error) {
            failures.push({ client: c, at: Date.now(), message: (error as Error).message.slice(0, 300) });
          }
          const wait = PACE_MS - (Date.now() - callStarted);
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }),
    );
    await killer;
    const limit = await limits;
    const context = `seed ${seed}, replica ${victim + 1} killed at ${killAfterMs} ms`;
    // One line for whoever reads the run: what the minute looked like.
    process.stderr.write(`${JSON.stringify({ redis: withRedis, seed, killed: victim + 1, kill_after_ms: killAfterMs, acknowledged: acknowledged.length, failed: failures.length, failures: [...new Set(failures.map((f) => f.message.slice(0, 80)))], rate_limit: limit })}\n`);

    // Only calls in flight on the killed replica failed: at most one per client (each calls one at a time), around the kill.
    expect(failures.length, `${context}: ${JSON.stringify(failures.slice(0, 5))}`).toBeLessThanOrEqual(CLIENTS);
    for (const failure of failures) {
      expect(failure.at, `${context}: ${failure.message}`).toBeGreaterThanOrEqual(killedAt);
      expect(failure.at, `${context}: ${failure.message}`).toBeLessThan(killedAt + 5000);
    }
    // Every session went on after the kill, on the replicas left and then on the restarted one too.
    expect(successesAfterKill.filter((count) => count === 0), context).toEqual([]);
    expect(sessions.map(({ transport }) => transport.sessionId)).toEqual(sessionIds);
    expect(restartedAt).toBeLessThan(deadline);
    expect(acknowledged.length).toBeGreaterThan(CLIENTS * 20);

    // Every acknowledged write, found through the proxy: by id, and a sample by its words. One checker per key,
    // each calling at most every 60 ms, stays within each key's rate.
    const checkers = await Promise.all(keys.map((key, k) => proxiedClient(proxy, key, `checker-${k}`)));
    cleanups.push(() => Promise.all(checkers.map(({ client }) => client.close())));
    const batches = Array.from({ length: Math.ceil(acknowledged.length / 10) }, (_, i) => acknowledged.slice(i * 10, i * 10 + 10));
    const sample = acknowledged.filter((_, i) => i % 25 === 0);
    const missing: string[] = [];
    const misfound: string[] = [];
    await Promise.all(
      checkers.map(async ({ client }, k) => {
        for (let i = k; i < batches.length + sample.length; i += checkers.length) {
          const began = Date.now();
          if (i < batches.length) {
            const got = await client.callTool({ name: 'get_memory', arguments: { ids: batches[i]!.map((a) => a.id) } });
            missing.push(...((got.structuredContent as { missing?: string[] } | undefined)?.missing ?? [`call failed: ${JSON.stringify(got.content)}`]));
          } else {
            const { id, marker } = sample[i - batches.length]!;
            const found = await client.callTool({ name: 'search_memory', arguments: { query: marker, mode: 'keyword' } });
            const ids = ((found.structuredContent as { hits?: Array<{ id: string }> } | undefined)?.hits ?? []).map((hit) => hit.id);
            if (ids.length !== 1 || ids[0] !== id) misfound.push(`${marker}: ${JSON.stringify(ids)}`);
          }
          const wait = 60 - (Date.now() - began);
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }),
    );
    expect(missing, context).toEqual([]);
    expect(misfound, context).toEqual([]);

    // One bucket for the whole deployment: the burst, plus what refilled while the requests went out; three replicas
    // counting on their own would have let about three times as many through.
    const allowed = BURST + Math.ceil((PER_MINUTE / 60) * limit.seconds) + 1;
    expect(limit.other, context).toEqual([]);
    expect(limit.passed, `${JSON.stringify(limit)}`).toBeGreaterThanOrEqual(BURST);
    expect(limit.passed, `${JSON.stringify(limit)}`).toBeLessThanOrEqual(allowed);
    expect(3 * BURST, 'the blast must be able to tell one bucket from three').toBeLessThanOrEqual(BLAST);

    // The restarted replica serves again, and is in the proxy's rotation.
    expect((await rawRequest(replicas[victim]!.port, { path: '/readyz' })).status).toBe(200);
    for (const log of logs) expect(log()).not.toMatch(/HTTP request failed|uncaught|unhandled/i);
  }, 150_000);
});
