import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { freshConnectionFetch } from '../helpers/fresh-connection-fetch.js';
import { initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest, type HttpServer } from '../helpers/spawn-http.js';
import { runCli } from '../helpers/spawn-server.js';
import { UiClient } from '../helpers/ui-client.js';

const { tempDataDir, start, connect, defer } = useHttpHarness('pinak-workers-', { args: ['--embed-model', 'none'] });

/** Wait until `ready()` holds, or fail after `ms`. */
async function until(ms: number, ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A server of `workers` processes, once all of them serve. */
async function startWorkers(dir: string, workers: number, args: string[] = []): Promise<HttpServer> {
  const server = await start(dir, args, { PINAK_WORKERS: String(workers) });
  await until(20_000, () => server.stderr().includes(`serving with ${workers} worker processes`), 'every worker to serve');
  return server;
}

/** The workers' process ids by worker number, from their startup lines. */
function workerPids(server: HttpServer): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of server.stderr().split('\n')) {
    if (!line.includes('serving MCP over HTTP')) continue;
    const entry = JSON.parse(line) as { pid: number; worker?: number };
    if (entry.worker !== undefined) pids.set(entry.worker, entry.pid);
  }
  return pids;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One request on a connection of its own (the workers take connections in turn). */
const fresh = (server: HttpServer, options: Parameters<typeof rawRequest>[1]) =>
  rawRequest(server.port, { ...options, headers: { connection: 'close', ...(options.headers ?? {}) } });

const ping = (server: HttpServer, key: string) =>
  fresh(server, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, authorization: `Bearer ${key}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });

async function streamableOverFreshConnections(server: HttpServer, headers: Record<string, string> = {}) {
  const recorded = freshConnectionFetch();
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', server.origin), { fetch: recorded.fetch, requestInit: { headers } });
  const client = new Client({ name: 'workers-test', version: '1.0.0' });
  await connect(client.connect(transport).then(() => ({ client })));
  return { client, transport, workers: recorded.workers };
}

describe('serve --workers', () => {
  it('serves one Streamable HTTP session from every worker, and a legacy SSE stream whichever worker its messages reach', async () => {
    const server = await startWorkers(tempDataDir(), 2);
    const { client, transport, workers } = await streamableOverFreshConnections(server);
    const sessionId = transport.sessionId;
    expect(sessionId).toBeTruthy();
    for (let i = 0; i < 12; i++) {
      await callOk(client, 'remember', { memories: [{ content: `worker round ${i}: the kettle is in the left cupboard`, kind: 'semantic' }] });
      const found = await callOk(client, 'search_memory', { query: `worker round ${i} kettle`, mode: 'keyword' });
      expect(JSON.stringify(found)).toContain(`worker round ${i}`);
    }
    expect(transport.sessionId).toBe(sessionId);
    // Each call reached one worker or the other, the same session on both.
    expect(new Set(workers)).toEqual(new Set(['1', '2']));

    const sse = freshConnectionFetch();
    const sseTransport = new SSEClientTransport(new URL('/sse', server.origin), { fetch: sse.fetch, eventSourceInit: { fetch: sse.fetch } });
    const sseClient = new Client({ name: 'workers-sse', version: '1.0.0' });
    await connect(sseClient.connect(sseTransport).then(() => ({ client: sseClient })));
    for (let i = 0; i < 8; i++) await callOk(sseClient, 'memory_stats', {});
    // The stream is held by one worker; its messages were posted to both, and passed on by the other.
    expect(new Set(sse.workers)).toEqual(new Set(['1', '2']));
  });

  it('counts every worker\'s sessions against --max-sessions, and a key\'s requests against one rate bucket', async () => {
    const dir = tempDataDir();
    const { key } = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await startWorkers(dir, 2, ['--max-sessions', '3', '--rate-limit-per-minute', '6', '--rate-limit-burst', '10']);
    const auth = { authorization: `Bearer ${key}` };
    const opens = [];
    for (let i = 0; i < 6; i++) opens.push(await fresh(server, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, ...auth }, body: initializeBody() }));
    expect(opens.map((answer) => answer.status)).toEqual([200, 200, 200, 503, 503, 503]);
    expect(new Set(opens.map((answer) => answer.headers['x-pinak-worker']))).toEqual(new Set(['1', '2']));
    // 6 initialize requests spent 6 of the burst of 10; 4 more pass, whichever worker gets them, then 429.
    const pings = [];
    for (let i = 0; i < 8; i++) pings.push(await ping(server, key));
    expect(pings.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect(new Set(pings.map((answer) => answer.headers['x-pinak-worker']))).toEqual(new Set(['1', '2']));
  });

  it('refuses a revoked key in every worker', async () => {
    const dir = tempDataDir();
    const doomed = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await startWorkers(dir, 2);
    const before = await Promise.all([ping(server, doomed.key), ping(server, doomed.key)]);
    expect(before.map((answer) => answer.status)).toEqual([200, 200]);
    expect(runCli(['--data-dir', dir, 'keys', 'revoke', doomed.id]).status).toBe(0);
    const after = [];
    for (let i = 0; i < 6; i++) after.push(await ping(server, doomed.key));
    expect(after.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(new Set(after.map((answer) => answer.headers['x-pinak-worker']))).toEqual(new Set(['1', '2']));
  });

  it('keeps a memory browser signed in whichever worker a page request reaches', async () => {
    const dir = tempDataDir();
    const { key } = createKey(dir, ['--tenant', 'local', '--role', 'admin']);
    const server = await startWorkers(dir, 2);
    const recorded = freshConnectionFetch();
    const browser = new UiClient(server.origin, recorded.fetch);
    await browser.signIn(key);
    const pages = [];
    for (let i = 0; i < 8; i++) pages.push(await browser.get('/ui/'));
    expect(pages.map((page) => page.status)).toEqual(Array(8).fill(200));
    expect(new Set(recorded.workers)).toEqual(new Set(['1', '2']));
    // Signed out through one worker, out on every one.
    const csrf = UiClient.csrf(pages[0]!.text);
    await browser.post('/ui/logout', { csrf });
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await browser.get('/ui/')).status);
    expect(after.every((status) => status === 303)).toBe(true);
  });

  it('replaces a worker that dies while clients go on, and stops every worker on SIGTERM', async () => {
    const server = await startWorkers(tempDataDir(), 2);
    const { client, workers } = await streamableOverFreshConnections(server);
    await callOk(client, 'remember', { memories: [{ content: 'before the crash', kind: 'semantic' }] });
    const victim = workerPids(server).get(2)!;
    process.kill(victim, 'SIGKILL');
    await until(20_000, () => server.stderr().includes('worker 3 serving in place of worker 2'), 'the replacement');
    expect(server.stderr()).toMatch(/worker 2 exited \(SIGKILL\): starting worker 3 in its place/);
    workers.length = 0;
    for (let i = 0; i < 10; i++) await callOk(client, 'search_memory', { query: 'before the crash', mode: 'keyword' });
    expect(new Set(workers)).toEqual(new Set(['1', '3']));
    const pids = [...workerPids(server).values()].filter(alive);
    expect(pids).toHaveLength(2);
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(server.stdout()).toBe('');
  });

  it('writes vector snapshots from one worker at a time, and a later start loads the last one', async () => {
    const dir = tempDataDir();
    // With the bundled model: every write has a vector, and snapshots come every 20 changes.
    const server = await start(dir, ['--embed-model', 'bundled', '--snapshot-every-changes', '20', '--snapshot-interval-ms', '200'], { PINAK_WORKERS: '2' });
    await until(30_000, () => server.stderr().includes('serving with 2 worker processes'), 'every worker to serve');
    const { client, workers } = await streamableOverFreshConnections(server);
    for (let batch = 0; batch < 20; batch++) {
      await callOk(client, 'remember', { memories: Array.from({ length: 10 }, (_, i) => ({ content: `snapshot batch ${batch} item ${i}: the ${['red', 'blue', 'green'][i % 3]} lamp`, kind: 'semantic' })) });
    }
    expect(new Set(workers)).toEqual(new Set(['1', '2']));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await server.stop('SIGTERM')).toBe(0);
    const snapshots = server
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"vector snapshot written"'))
      .map((line) => JSON.parse(line) as { time: number; ms: number; worker: number; seq: number });
    expect(snapshots.length).toBeGreaterThan(0);
    // The lease: no two snapshot writes at once, whichever workers wrote them.
    const spans = snapshots.map((s) => [s.time - s.ms, s.time] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    const single = await start(dir, ['--embed-model', 'bundled', '--workers', '1']);
    const { client: reader } = await streamableOverFreshConnections(single);
    const found = await callOk(reader, 'search_memory', { query: 'snapshot batch 19 item 9 lamp', mode: 'vector' });
    expect(JSON.stringify(found)).toContain('snapshot batch');
    expect(single.stderr()).toContain('vector index loaded from snapshot');
    expect(single.stderr()).not.toContain('vector snapshot unusable');
  });

  it('stops its workers when the primary itself is killed', async () => {
    const server = await startWorkers(tempDataDir(), 2);
    const pids = [...workerPids(server).values()];
    expect(pids).toHaveLength(2);
    await server.stop('SIGKILL');
    await until(15_000, () => pids.every((pid) => !alive(pid)), 'the workers to stop');
  });

  it('stops the whole server, once, when a worker cannot start', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    defer(() => taken.close());
    const port = (taken.address() as { port: number }).port;
    const started = Date.now();
    const result = runCli(['--data-dir', tempDataDir(), '--embed-model', 'none', '--transport', 'http', '--port', String(port), '--workers', '2', '--log-level', 'warn']);
    expect(result.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.stdout).toBe('');
    // The worker's one line says why; nothing else is said at the warn level.
    expect(result.stderr).toBe(`pinak-memory: cannot listen on 127.0.0.1:${port}: the address is already in use\n`);
  });

  it('refuses a bad number of workers with a clear message', () => {
    const dir = tempDataDir();
    for (const [value, message] of [
      ['0', 'expected at least 1 serving process'],
      ['-3', 'expected at least 1 serving process'],
      ['abc', 'expected a whole number of serving processes, 1 to 64'],
      ['65', 'expected at most 64 serving processes'],
    ] as const) {
      const result = runCli(['--data-dir', dir, '--transport', 'http', `--workers=${value}`]);
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(`pinak-memory: invalid flag --workers (${JSON.stringify(value)}): ${message}`);
    }
    const env = runCli(['--data-dir', dir, '--transport', 'http'], { PINAK_WORKERS: '0' });
    expect(env.stderr.trim()).toBe('pinak-memory: invalid environment variable PINAK_WORKERS ("0"): expected at least 1 serving process');
    // In the environment, other commands (and stdio servers) ignore it.
    const keys = runCli(['--data-dir', dir, 'keys', 'list'], { PINAK_WORKERS: '2' });
    expect(keys.status).toBe(0);
    expect(keys.stderr).not.toContain('workers');
    const stdio = runCli(['--data-dir', dir, '--workers', '2']);
    expect(stdio.stderr).toContain('stdio has one client');
    const memory = runCli(['--data-dir', dir, '--transport', 'http', '--workers', '2', '--http-sessions', 'memory']);
    expect(memory.stderr).toContain('use --http-sessions database');
  });
});
