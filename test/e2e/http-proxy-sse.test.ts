import { request } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { startHaproxy, type Haproxy } from '../helpers/haproxy.js';
import { useHttpHarness } from '../helpers/http-harness.js';
import { freshDatabase } from '../helpers/postgres.js';
import { rawRequest, sseClient, streamableClient, type HttpServer } from '../helpers/spawn-http.js';

// Behind the proxy a request's Host is the proxy's address, which each server must accept.
const { tempDataDir, start, connect, defer } = useHttpHarness('pinak-proxy-', { args: ['--embed-model', 'none', '--allowed-hosts', '127.0.0.1'] });

/** Two servers, each on its own data directory, started with these replica names (none: without --replica-name). */
async function twoReplicas(names: [string, string] | null): Promise<HttpServer[]> {
  return Promise.all([0, 1].map((i) => start(tempDataDir(), names ? ['--replica-name', names[i]!] : [])));
}

async function proxy(...args: Parameters<typeof startHaproxy>): Promise<Haproxy> {
  const started = await startHaproxy(...args);
  defer(() => started.stop());
  return started;
}

/** The endpoint a legacy SSE stream announces first, read through the proxy; the stream is then dropped. */
function announcedEndpoint(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/sse', url), { headers: { accept: 'text/event-stream' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        const endpoint = /event: endpoint\ndata: (.*)\n/.exec(text)?.[1];
        if (endpoint !== undefined) {
          resolve(endpoint);
          req.destroy();
        }
      });
      res.on('end', () => reject(new Error(`the stream ended without an endpoint: ${text}`)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** How many memories a server holds, asked directly (not through the proxy). */
async function memoriesOn(server: HttpServer): Promise<number> {
  const { client } = await connect(streamableClient(server.origin));
  return (await callOk(client, 'memory_stats')).memories_total as number;
}

/** Open a legacy SSE client through the proxy and make `calls` tool calls; resolves with how many succeeded (0 if it could not connect). */
async function sseSession(url: string, label: string, calls: number): Promise<number> {
  let client: Client;
  try {
    ({ client } = await connect(sseClient(url, label)));
  } catch {
    return 0;
  }
  let succeeded = 0;
  for (let i = 0; i < calls; i += 1) {
    try {
      await callOk(client, 'remember', { content: `${label} call ${i}`, tags: [label] });
      succeeded += 1;
    } catch {
      // counted as a failure
    }
  }
  return succeeded;
}

describe('replicas behind haproxy (the rules of deploy/haproxy.cfg)', () => {
  it('routes each legacy SSE message to the replica holding its stream: 20 calls over 4 sessions all succeed, spread over both replicas', async () => {
    const servers = await twoReplicas(['pinak1', 'pinak2']);
    for (const [i, server] of servers.entries()) {
      const name = `pinak${i + 1}`;
      expect(JSON.parse(server.stderr().split('\n').find((line) => line.includes('serving MCP over HTTP'))!)).toMatchObject({ replica: name, msg: expect.stringContaining(`as replica ${name}`) });
      const ready = await rawRequest(server.port, { path: '/readyz', headers: { host: `127.0.0.1:${server.port}` } });
      expect([ready.status, ready.json()]).toEqual([200, { status: 'ready', replica: name }]);
    }
    const haproxy = await proxy(servers.map((server, i) => ({ name: `pinak${i + 1}`, port: server.port })));

    const endpoints = [await announcedEndpoint(haproxy.url), await announcedEndpoint(haproxy.url)];
    expect(endpoints.map((e) => /^\/messages\?replica=(pinak[12])&sessionId=[0-9a-f-]+$/.exec(e)?.[1]).sort()).toEqual(['pinak1', 'pinak2']);

    const results = await Promise.all([0, 1, 2, 3].map((i) => sseSession(haproxy.url, `client${i}`, 5)));
    expect(results).toEqual([5, 5, 5, 5]);
    const held = await Promise.all(servers.map(memoriesOn));
    expect(held[0]! + held[1]!).toBe(20);
    expect(held.every((count) => count > 0), `sessions spread over both replicas: ${held.join(', ')}`).toBe(true);
  });

  it('without replica names the same proxy sends messages round robin, to the replica without the session, and they fail', async () => {
    const servers = await twoReplicas(null);
    const haproxy = await proxy(servers.map((server, i) => ({ name: `pinak${i + 1}`, port: server.port })));
    expect(await announcedEndpoint(haproxy.url)).toMatch(/^\/messages\?sessionId=[0-9a-f-]+$/);
    const results = [];
    for (let i = 0; i < 6; i += 1) results.push(await sseSession(haproxy.url, `client${i}`, 3));
    const failed = results.reduce((sum, ok) => sum + (3 - ok), 0);
    expect(failed, `calls that failed of 18: ${results.join(', ')}`).toBeGreaterThan(0);
  });

  it('sends a request refused by a stopped replica to the other one, before any health check has noticed', async () => {
    const servers = await twoReplicas(['pinak1', 'pinak2']);
    // Checks a minute apart: the stopped replica stays in the rotation for this test.
    const haproxy = await proxy(servers.map((server, i) => ({ name: `pinak${i + 1}`, port: server.port })), { inter: '60s', fall: 2, rise: 1 });
    expect(await servers[1]!.stop('SIGKILL')).toBeNull();
    const results = [];
    for (let i = 0; i < 6; i += 1) results.push(await sseSession(haproxy.url, `client${i}`, 2));
    expect(results).toEqual([2, 2, 2, 2, 2, 2]);
    expect(await memoriesOn(servers[0]!)).toBe(12);
    // Streamable HTTP through the proxy: the stream GET and the POSTs all reach the live replica.
    const { client } = await connect(streamableClient(haproxy.url));
    expect((await client.listTools()).tools.length).toBe(9);
  });

  it('takes a replica whose /readyz answers 503 (its database is gone) out of the rotation: new clients reach only the other, while the legacy SSE sessions it holds still reach it', async () => {
    const database = await freshDatabase();
    defer(() => database.drop());
    const servers = await Promise.all([
      start(tempDataDir(), ['--replica-name', 'pinak1', '--database-url', database.url]),
      start(tempDataDir(), ['--replica-name', 'pinak2']),
    ]);
    const haproxy = await proxy(servers.map((server, i) => ({ name: `pinak${i + 1}`, port: server.port })));
    // Two legacy SSE sessions, one on each replica (round robin).
    const early = [await connect(sseClient(haproxy.url, 'early1')), await connect(sseClient(haproxy.url, 'early2'))];
    for (const server of servers) expect(server.stderr()).toMatch(/"transport":"sse"/);
    await database.drop();
    const ready = await rawRequest(servers[0]!.port, { path: '/readyz', headers: { host: `127.0.0.1:${servers[0]!.port}` } });
    expect([ready.status, ready.json()]).toEqual([503, { status: 'unavailable', replica: 'pinak1' }]);
    // Two failed checks 200 ms apart.
    const deadline = Date.now() + 5000;
    while (!/Server pinak\/pinak1 is DOWN/.test(haproxy.output()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(haproxy.output()).toMatch(/Server pinak\/pinak1 is DOWN, reason: Layer7 wrong status, code: 503/);
    // The messages of the session whose stream pinak1 holds still go to pinak1 (force-persist), not round
    // robin to pinak2, which would answer 404; pinak1 fails them without its database, but one whose
    // checks failed for being slow would answer.
    const down = haproxy.output().length;
    await Promise.all(early.map(({ client }) => client.listTools().catch(() => {})));
    // haproxy logs a request once its answer is sent, which the client may have read first.
    const routed = (): string[] => haproxy.output().slice(down).split('\n').flatMap((line) => /pinak\/(pinak\d) .*"POST \/messages\?replica=(pinak\d)&/.exec(line)?.slice(1, 3).join(' for ') ?? []);
    const logged = Date.now() + 5000;
    while (routed().length < 2 && Date.now() < logged) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(routed().sort()).toEqual(['pinak1 for pinak1', 'pinak2 for pinak2']);

    const { client } = await connect(streamableClient(haproxy.url));
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('search_memory');
    for (let i = 0; i < 5; i += 1) await callOk(client, 'remember', { content: `through the proxy ${i}` });
    expect((await callOk(client, 'search_memory', { query: 'proxy', mode: 'keyword' })).hits).toHaveLength(5);
    expect(await sseSession(haproxy.url, 'sse', 5)).toBe(5);
    expect(await memoriesOn(servers[1]!)).toBe(10);
  });
});
