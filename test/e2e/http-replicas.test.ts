import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyAsync, keyedSseClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { adminQuery, freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { rawRequest, spawnHttp, type HttpServer } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * Three server processes on one PostgreSQL database, with Streamable HTTP
 * sessions in the database (the default with --database-url): a client
 * whose every request goes to the next replica in turn, as behind a
 * round-robin proxy without sticky sessions, sees one service.
 */
const REPLICAS = 3;
let database: FreshDatabase;
const dirs = Array.from({ length: REPLICAS + 1 }, () => makeTempDir('pinak-replica-'));
let replicas: HttpServer[] = [];
const onDatabase = (): string[] => ['--database-url', database.url];
const serverArgs = (extra: string[] = []): string[] => [...onDatabase(), '--embed-model', 'none', '--auth', 'keys', '--max-sessions-per-key', '2', ...extra];

/** A fetch that sends each request to the next replica in turn, whatever URL the client asked for, and counts where they went. */
function roundRobin(origins: () => string[], served: number[] = []): typeof fetch {
  let next = 0;
  return (input, init) => {
    const list = origins();
    const index = next++ % list.length;
    served[index] = (served[index] ?? 0) + 1;
    const url = new URL(input instanceof Request ? input.url : String(input));
    return fetch(new URL(url.pathname + url.search, list[index]), init);
  };
}

async function rotatingClient(key: string, served: number[] = [], name = 'rotating-client'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', replicas[0]!.origin), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    fetch: roundRobin(() => replicas.map((replica) => replica.origin), served),
  });
  const client = new Client({ name, version: '1.2.3' });
  await client.connect(transport);
  return { client, transport };
}

beforeAll(async () => {
  database = await freshDatabase();
  replicas = await Promise.all(dirs.slice(0, REPLICAS).map((dir) => spawnHttp(dir.dir, serverArgs())));
});

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await database.drop();
  for (const dir of dirs) dir.cleanup();
});

/**
 * A key in the database. The replicas outlive each test, and so do this
 * process's keep-alive connections to them: the CLI runs without blocking so
 * that none of them is reused after a replica closed it meanwhile.
 */
const keyFor = async (tenant: string, role = 'writer'): Promise<string> => (await createKeyAsync(dirs[REPLICAS]!.dir, ['--tenant', tenant, '--role', role, ...onDatabase()])).key;

describe('Streamable HTTP sessions kept in PostgreSQL, served by any replica', () => {
  it('a session opened on one replica is served by every other: writes on one are found through the next, under one audit session and client name', async () => {
    const key = await keyFor('acme');
    const served: number[] = [];
    const { client, transport } = await rotatingClient(key, served, 'roaming-agent');
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const { stored } = await callOk(client, 'remember', { content: `the roaming kiln note number ${i} zq${i}x` });
      ids.push(stored[0].id as string);
      const found = await callOk(client, 'search_memory', { query: `zq${i}x`, mode: 'keyword' });
      expect(found.hits.map((hit: { id: string }) => hit.id)).toEqual([stored[0].id]);
    }
    // initialize, initialized, then 12 calls: every replica served some.
    expect(served.filter((count) => count > 0)).toHaveLength(REPLICAS);
    expect(transport.sessionId).toMatch(/^[0-9A-Z]{26}$/);

    const trail = await adminQuery<{ session_id: string; client_name: string | null }>(
      `SELECT DISTINCT a.session_id, s.client_name FROM tenant_acme.audit_log a LEFT JOIN tenant_acme.audit_sessions s USING (session_id) WHERE a.tool = 'remember'`,
      [],
      database.url,
    );
    expect(trail.rows).toEqual([{ session_id: expect.any(String), client_name: 'roaming-agent' }]);
    await transport.terminateSession();
    await client.close();
  });

  it('a DELETE through one replica ends the session on all; another key presenting the session id is told there is no such session', async () => {
    const key = await keyFor('acme');
    const other = await keyFor('acme');
    const { client, transport } = await rotatingClient(key);
    await client.listTools();
    const sessionId = transport.sessionId!;
    const list = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };
    const headers = (bearer: string) => ({ authorization: `Bearer ${bearer}`, 'mcp-session-id': sessionId, accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' });
    for (const replica of replicas) {
      const theirs = await rawRequest(replica.port, { path: '/mcp', method: 'POST', headers: headers(other), body: JSON.stringify(list) });
      expect(theirs.status).toBe(404);
      const ours = await rawRequest(replica.port, { path: '/mcp', method: 'POST', headers: headers(key), body: JSON.stringify(list) });
      expect(ours.status).toBe(200);
    }
    const ended = await rawRequest(replicas[1]!.port, { path: '/mcp', method: 'DELETE', headers: headers(key) });
    expect(ended.status).toBe(200);
    for (const replica of replicas) {
      const after = await rawRequest(replica.port, { path: '/mcp', method: 'POST', headers: headers(key), body: JSON.stringify(list) });
      expect(after.status).toBe(404);
      expect(after.json().error.message).toMatch(/Session not found/);
    }
    await client.close();
  });

  it('the per-key session limit holds for the whole deployment: two sessions opened on two replicas, the third is refused on the third replica', async () => {
    const key = await keyFor('limits');
    const opened = [];
    for (const replica of replicas.slice(0, 2)) {
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', replica.origin), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
      const client = new Client({ name: 'capped', version: '1' });
      await client.connect(transport);
      opened.push({ client, transport });
    }
    const third = new Client({ name: 'capped', version: '1' });
    const refused = await third
      .connect(new StreamableHTTPClientTransport(new URL('/mcp', replicas[2]!.origin), { requestInit: { headers: { authorization: `Bearer ${key}` } } }))
      .then(() => 'connected', (error: Error) => error.message);
    expect(refused).toMatch(/already has 2 open sessions/);
    // Ending one (through a replica that did not open it) frees its place anywhere.
    const first = opened[0]!;
    const ending = new StreamableHTTPClientTransport(new URL('/mcp', replicas[2]!.origin), { requestInit: { headers: { authorization: `Bearer ${key}` } }, sessionId: first.transport.sessionId });
    await ending.terminateSession();
    const again = new Client({ name: 'capped', version: '1' });
    await again.connect(new StreamableHTTPClientTransport(new URL('/mcp', replicas[2]!.origin), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    await again.listTools();
    for (const { client } of opened) await client.close();
    await again.close();
  });

  it('a legacy SSE stream counts against the same per-key limit while it is open, wherever it was opened', async () => {
    const key = await keyFor('limits-sse');
    const streamable = new Client({ name: 'capped', version: '1' });
    await streamable.connect(new StreamableHTTPClientTransport(new URL('/mcp', replicas[0]!.origin), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    const stream = await keyedSseClient(replicas[1]!.origin, key);
    const refused = await keyedSseClient(replicas[2]!.origin, key).then(() => 'connected', (error: Error) => error.message);
    expect(refused).toMatch(/429|already has 2 open sessions/);
    await stream.client.close();
    // The stream's place is given back when it closes (the replica forgets it as the response ends).
    let again = 'refused';
    for (let i = 0; i < 50 && again !== 'connected'; i += 1) {
      again = await keyedSseClient(replicas[2]!.origin, key).then(async ({ client }) => {
        await client.listTools();
        await client.close();
        return 'connected';
      }, (error: Error) => error.message);
      if (again !== 'connected') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(again).toBe('connected');
    await streamable.close();
  });

  it("the sessions gauge of /metrics counts the deployment's Streamable HTTP sessions on every replica", async () => {
    const admin = (await createKeyAsync(dirs[REPLICAS]!.dir, ['--tenant', 'local', '--role', 'admin', ...onDatabase()])).key;
    const gauge = async (replica: HttpServer): Promise<number> => {
      const scrape = await rawRequest(replica.port, { path: '/metrics', headers: { authorization: `Bearer ${admin}` } });
      expect(scrape.status).toBe(200);
      return Number(/^pinak_http_sessions\{transport="streamable"\} (\d+)$/m.exec(scrape.body)?.[1]);
    };
    const before = await gauge(replicas[0]!);
    const { client, transport } = await rotatingClient(await keyFor('acme'));
    for (const replica of replicas) expect(await gauge(replica)).toBe(before + 1);
    await transport.terminateSession();
    for (const replica of replicas) expect(await gauge(replica)).toBe(before);
    await client.close();
  });

  it('GET /mcp is 405 (no standalone stream to hold on one replica), and an initialize in a batch with other requests is refused clearly', async () => {
    const key = await keyFor('acme');
    const get = await rawRequest(replicas[0]!.port, { path: '/mcp', method: 'GET', headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST, DELETE');
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const batch = await rawRequest(replicas[0]!.port, {
      path: '/mcp',
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify([initialize, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }]),
    });
    expect(batch.status).toBe(400);
    expect(batch.json().error.message).toMatch(/initialize request must be sent alone/);
  });

  it('a replica killed with SIGKILL loses no session: the client goes on through the others, and the restarted replica serves the same session', async () => {
    const key = await keyFor('acme');
    const { client, transport } = await rotatingClient(key);
    const before = await callOk(client, 'remember', { content: 'written before the crash kq1z' });
    const victim = replicas[1]!;
    await victim.stop('SIGKILL');
    // The client's rotation still names the dead replica: leave it out, as a proxy's health check would.
    const alive = replicas.filter((replica) => replica !== victim);
    replicas = alive;
    const during = await callOk(client, 'remember', { content: 'written while one replica is down kq2z' });
    const restarted = await spawnHttp(dirs[1]!.dir, serverArgs());
    replicas = [...alive, restarted];
    for (let i = 0; i < REPLICAS; i += 1) {
      const found = await callOk(client, 'search_memory', { query: 'kq1z kq2z', mode: 'keyword' });
      expect(found.hits.map((hit: { id: string }) => hit.id).sort()).toEqual([before.stored[0].id, during.stored[0].id].sort());
    }
    expect(transport.sessionId).toBeDefined();
    await client.close();
  });
});

describe('draining on SIGTERM', () => {
  it('with --shutdown-delay-ms, /readyz turns 503 at once while calls are still served, then the process exits cleanly', async () => {
    const key = await keyFor('acme');
    const draining = await spawnHttp(dirs[REPLICAS]!.dir, serverArgs(['--shutdown-delay-ms', '1500']));
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', draining.origin), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    const client = new Client({ name: 'draining', version: '1' });
    await client.connect(transport);
    expect((await rawRequest(draining.port, { path: '/readyz' })).status).toBe(200);
    const signalled = Date.now();
    draining.child.kill('SIGTERM');
    let status = 200;
    while (status === 200 && Date.now() - signalled < 1000) status = (await rawRequest(draining.port, { path: '/readyz' })).status;
    expect(status).toBe(503);
    // Still serving: the load balancer has not noticed yet.
    const stored = await callOk(client, 'remember', { content: 'written while draining dr1z' });
    expect(stored.stored).toHaveLength(1);
    expect(await draining.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1500);
    expect(draining.stderr()).toMatch(/draining: \/readyz answers 503/);
    // The session outlives the replica that opened it.
    const found = await rawRequest(replicas[0]!.port, {
      path: '/mcp',
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'mcp-session-id': transport.sessionId!, accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'dr1z', mode: 'keyword' } } }),
    });
    expect(found.status).toBe(200);
    expect(found.body).toContain(stored.stored[0].id);
  });
});
