import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { debianClusterVersion, startDebianCluster } from '../helpers/pg-cluster.js';
import { adminQuery } from '../helpers/postgres.js';
import { seededRandom, sentence } from '../helpers/sentences.js';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { rawRequest, spawnHttp } from '../helpers/spawn-http.js';
import { spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** This test stops and starts a PostgreSQL server, so it needs one of its own, which Debian's cluster tools make. */
const VERSION = debianClusterVersion();

/** Enough connections in transactions when the database stops that a server which cannot take that (it crashed) shows it every run. */
const WRITERS = 8;
const OUTAGE_MS = 5000;
/** How long a call may take to fail while the database is down: fast, not a hang. */
const FAIL_FAST_MS = 3000;
/** Pause before a careful agent repeats a call the server said to retry. */
const RETRY_PAUSE_MS = 100;
const UNAVAILABLE = /^database unavailable, retry\b/;

interface Call {
  tool: string;
  ok: boolean;
  text: string;
  ms: number;
  /** When it ended (Date.now()). */
  at: number;
}

const cleanups: Array<() => unknown> = [];
let serverLog: (() => string) | null = null;
afterEach(async (context) => {
  // A failure shows the end of the server's log: what it said when it crashed or hung.
  if (context.task.result?.state === 'fail' && serverLog) process.stderr.write(`server log (last lines):\n${serverLog().split('\n').slice(-40).join('\n')}\n`);
  serverLog = null;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const textOf = (result: Record<string, unknown>): string => ((result['content'] ?? []) as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n');

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

describe.skipIf(VERSION === null)('PostgreSQL restarted under a steady write load', () => {
  it(`calls fail fast with "database unavailable, retry" while it is down for ${OUTAGE_MS / 1000} s; the server recovers by itself and every acknowledged write is there exactly once`, async () => {
    const cluster = await startDebianCluster(VERSION!);
    cleanups.push(() => cluster.stop());
    const temp = makeTempDir('pinak-pg-restart-');
    cleanups.push(temp.cleanup);
    const server: Spawned = await spawnServer(temp.dir, ['--database-url', cluster.url, '--embed-model', 'none']);
    cleanups.push(() => server.close());
    serverLog = server.stderr;
    const pid = server.transport.pid;

    const acknowledged: Array<{ key: string; content: string; marker: string; id: string; at: number }> = [];
    /** Writes given up on: the server answered neither ok nor "retry". */
    const abandoned: string[] = [];
    const calls: Call[] = [];
    let stop = false;

    const timed = async (tool: string, args: Record<string, unknown>) => {
      const started = performance.now();
      const result = await server.client.callTool({ name: tool, arguments: args });
      calls.push({ tool, ok: !result.isError, text: result.isError ? textOf(result) : '', ms: performance.now() - started, at: Date.now() });
      return result;
    };

    // A careful agent: every write carries an idempotency key, and a call the server says to retry is repeated with the same key.
    const writer = async (w: number): Promise<void> => {
      const random = seededRandom(7000 + w);
      for (let i = 0; !stop; i++) {
        const key = `restart-w${w}-${i}`;
        const marker = `rk${w}x${i}`;
        const content = `${sentence(random)} ${marker}`;
        for (;;) {
          const result = await timed('remember', { content, idempotency_key: key });
          if (!result.isError) {
            acknowledged.push({ key, content, marker, id: (result.structuredContent as { stored: Array<{ id: string }> }).stored[0]!.id, at: Date.now() });
            break;
          }
          if (!UNAVAILABLE.test(textOf(result))) {
            abandoned.push(marker); // and the call's text fails the test below
            break;
          }
          await sleep(RETRY_PAUSE_MS);
        }
      }
    };
    // And someone searching meanwhile.
    const reader = async (): Promise<void> => {
      const random = seededRandom(99);
      while (!stop) {
        await timed('search_memory', { query: sentence(random, 3), mode: 'keyword', limit: 5 });
        await sleep(20);
      }
    };

    // A call that throws (the server gone: "Connection closed") ends the load, and the waits below say so.
    let broken: unknown = null;
    const load = Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), reader()]).catch((error: unknown) => {
      broken = error;
    });
    const acknowledgedSoFar = (): number => {
      if (broken) throw new Error(`the load stopped: ${(broken as Error).message}`);
      return acknowledged.length;
    };
    await expect.poll(acknowledgedSoFar, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(100);

    const haltStarted = Date.now();
    await cluster.halt();
    const halted = Date.now();
    await sleep(Math.max(0, haltStarted + OUTAGE_MS - Date.now()));
    const resumeStarted = Date.now();
    const beforeResume = acknowledged.length;
    await cluster.resume();
    const resumed = Date.now();
    // Back by itself: the same server process answers again, and the load goes on.
    await expect.poll(acknowledgedSoFar, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(beforeResume + 100);
    stop = true;
    await load;
    expect(broken).toBeNull();

    const failed = calls.filter((call) => !call.ok);
    const firstOkAfter = acknowledged.find((a) => a.at >= resumeStarted)?.at ?? NaN;
    process.stderr.write(
      `postgres-restart: stopping took ${halted - haltStarted} ms, starting ${resumed - resumeStarted} ms; first acknowledged write ${firstOkAfter - resumeStarted} ms after the start began; ` +
        `${acknowledged.length} writes acknowledged, ${calls.length} calls, ${failed.length} failed ` +
        `(median ${Math.round(median(failed.map((c) => c.ms)))} ms, slowest ${Math.round(Math.max(0, ...failed.map((c) => c.ms)))} ms)\n`,
    );

    // Every failure said to retry, and said it fast: no internal error, no hang, no word of a full database.
    expect(failed.filter((c) => !UNAVAILABLE.test(c.text)).map((c) => `${c.tool}: ${c.text}`)).toEqual([]);
    expect(failed.filter((c) => /size limit|audit/i.test(c.text))).toEqual([]);
    expect(failed.filter((c) => c.ms > FAIL_FAST_MS).map((c) => `${c.tool} took ${Math.round(c.ms)} ms`)).toEqual([]);
    // The outage was seen (by writes and by searches), and only while the database was down.
    expect(failed.filter((c) => c.tool === 'remember').length).toBeGreaterThan(0);
    expect(failed.filter((c) => c.tool === 'search_memory').length).toBeGreaterThan(0);
    expect(failed.filter((c) => c.at < haltStarted || c.at > resumed + 2000)).toEqual([]);
    expect(abandoned).toEqual([]);
    expect(server.transport.pid).toBe(pid);

    // Every acknowledged write is there, once, and nothing else is.
    const ids = acknowledged.map((a) => a.id);
    for (let i = 0; i < ids.length; i += 10) {
      expect((await callOk(server.client, 'get_memory', { ids: ids.slice(i, i + 10) })).missing).toEqual([]);
    }
    for (const { marker, id } of acknowledged) {
      const { hits } = await callOk(server.client, 'search_memory', { query: marker, mode: 'keyword', limit: 5 });
      expect(hits.map((h: { id: string }) => h.id), marker).toEqual([id]);
    }
    expect((await callOk(server.client, 'memory_stats')).memories_total).toBe(acknowledged.length);
    const { rows } = await adminQuery<{ marker: string; n: number }>(
      `SELECT substring(content from ' (rk[0-9]+x[0-9]+)$') AS marker, COUNT(*)::int AS n FROM pinak.memories GROUP BY 1`,
      [],
      cluster.url,
    );
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    expect(rows.map((r) => r.marker).sort()).toEqual(acknowledged.map((a) => a.marker).sort());

    // A write repeated once more with its key, as an agent unsure of its answer would, gets the first answer and stores nothing.
    for (const { key, content, id } of acknowledged.filter((_, i) => i % 25 === 0)) {
      expect((await callOk(server.client, 'remember', { content, idempotency_key: key })).stored[0].id).toBe(id);
    }
    expect((await callOk(server.client, 'memory_stats')).memories_total).toBe(acknowledged.length);
    // An outage is no internal error: the log says why calls were refused, and has no crash in it.
    expect(server.stderr()).not.toMatch(/uncaught|unhandled|failed unexpectedly/i);
  }, 90_000);

  it('over HTTP with keys and sessions in the database: while it is down a request gets 503 "database unavailable, retry" (no 500, no stack per request), and the same session works again once it is back', async () => {
    const cluster = await startDebianCluster(VERSION!);
    cleanups.push(() => cluster.stop());
    const temp = makeTempDir('pinak-pg-http-outage-');
    cleanups.push(temp.cleanup);
    const { key } = createKey(temp.dir, ['--tenant', 'acme', '--role', 'writer', '--database-url', cluster.url]);
    const server = await spawnHttp(temp.dir, ['--database-url', cluster.url, '--embed-model', 'none', '--auth', 'keys']);
    cleanups.push(() => server.stop());
    serverLog = server.stderr;
    const { client, transport } = await keyedClient(server.origin, key);
    await callOk(client, 'remember', { content: 'before the outage ho1z' });
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'ho1z', mode: 'keyword' } } };
    const headers = { authorization: `Bearer ${key}`, 'mcp-session-id': transport.sessionId!, accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' };

    await cluster.halt();
    const refused = [];
    for (let i = 0; i < 5; i += 1) refused.push(await rawRequest(server.port, { path: '/mcp', method: 'POST', headers, body: JSON.stringify(call) }));
    expect(refused.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
    expect(refused[0]!.json().error.message).toBe('Service Unavailable: database unavailable, retry');
    expect(refused[0]!.headers['retry-after']).toBe('1');
    expect((await rawRequest(server.port, { path: '/readyz' })).status).toBe(503);

    await cluster.resume();
    let answered = await rawRequest(server.port, { path: '/mcp', method: 'POST', headers, body: JSON.stringify(call) });
    for (let i = 0; answered.status === 503 && i < 50; i += 1) {
      await sleep(RETRY_PAUSE_MS);
      answered = await rawRequest(server.port, { path: '/mcp', method: 'POST', headers, body: JSON.stringify(call) });
    }
    expect(answered.status).toBe(200);
    expect(answered.body).toContain('before the outage ho1z');
    expect(server.stderr()).not.toMatch(/HTTP request failed|uncaught|unhandled/i);
    // Warnings, sampled (at most 10 a minute), without a stack: an outage is no bug.
    const outageLines = server.stderr().split('\n').filter((line) => line.includes('database unavailable: HTTP request refused with 503'));
    expect(outageLines.length).toBeGreaterThan(0);
    expect(outageLines.length).toBeLessThanOrEqual(10);
    for (const line of outageLines) expect(JSON.parse(line)).toMatchObject({ level: 40, reason: expect.stringMatching(/ECONNREFUSED|terminat/) });
    await client.close();
  }, 60_000);
});
