import { readdirSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/auth-clients.js';
import { auditOf, initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest, sseMessages, type HttpServer } from '../helpers/spawn-http.js';

const { tempDataDir, start } = useHttpHarness('pinak-in-flight-', { args: ['--embed-model', 'none'] });

/** Open a session with raw requests; returns how to post to it. */
async function rawSession(server: HttpServer, key: string) {
  const headers = { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer ${key}` };
  const opened = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers, body: initializeBody() });
  expect(opened.status).toBe(200);
  const session = { ...headers, 'mcp-session-id': String(opened.headers['mcp-session-id']), 'mcp-protocol-version': '2025-06-18' };
  await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return {
    post: (body: unknown, timeoutMs = 5000) =>
      Promise.race([
        rawRequest(server.port, { method: 'POST', path: '/mcp', headers: session, body: JSON.stringify(body) }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs)),
      ]),
  };
}

const search = (id: number | string, query = 'anything') => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'search_memory', arguments: { query } } });
const cancel = (requestId: number | string) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'changed my mind' } });
const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Wait until `done` holds (checked every 20 ms), at most 5 s. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await done()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('requests in flight', () => {
  it('refuses a batch of more than four times the in-flight cap, and requests reusing an id, before any runs', async () => {
    const dir = tempDataDir();
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await start(dir, ['--max-calls-per-session', '8', '--rate-limit-per-minute', '0']);
    const session = await rawSession(server, reader.key);

    // One batch of 100 calls sharing id 7 ran 100 calls against a cap of 8.
    const flood = await session.post(Array.from({ length: 100 }, () => search(7)));
    expect(flood.status).toBe(400);
    expect(flood.json().error.message).toMatch(/a batch holds at most 32 messages/);
    const twice = await session.post([search(7), search(7)]);
    expect(twice.status).toBe(400);
    expect(twice.json().error.message).toMatch(/request id 7 is already in flight/);

    // A batch within the cap runs each call once, answered in one finished response.
    const batch = await session.post([search(1), search(2), search('2')]);
    expect(batch.status).toBe(200);
    expect(sseMessages(batch.body).map((m) => m.id).sort()).toEqual([1, 2, '2'].sort());
    expect(auditOf(dir, 'acme').filter((row) => row.tool === 'search_memory')).toHaveLength(3);
  });

  it('answers a cancelled request so its response finishes, and leaves no connection open behind 200 of them', async () => {
    const dir = tempDataDir();
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await start(dir, ['--rate-limit-per-minute', '0']);
    const session = await rawSession(server, reader.key);
    await session.post(search(0));
    const baseline = openFds(server.child.pid!);

    const cancelled = await session.post([search(1), cancel(1)]);
    expect(cancelled.status).toBe(200);
    const [answer] = sseMessages(cancelled.body);
    expect(answer).toMatchObject({ id: 1, result: { isError: true, content: [{ text: expect.stringMatching(/cancelled/) }] } });

    for (let i = 0; i < 200; i++) {
      const finished = await session.post([search(1000 + i), cancel(1000 + i)]);
      expect(finished.status).toBe(200);
    }
    // Responses that never finished held a file descriptor each (199 of 200 before the fix).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(openFds(server.child.pid!)).toBeLessThanOrEqual(baseline + 5);
    // A cancelled call that had not started did not run, and is audited as cancelled.
    const rows = auditOf(dir, 'acme').filter((row) => row.tool === 'search_memory');
    expect(rows.filter((row) => row.error_code === 'cancelled')).toHaveLength(201);
  });

  it('closes connections beyond --max-connections at once', async () => {
    const dir = tempDataDir();
    const server = await start(dir, ['--max-connections', '4']);
    const sockets: Socket[] = [];
    const closed: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      const socket = connectTcp(server.port, '127.0.0.1');
      const index = i;
      closed[index] = false;
      socket.on('close', () => (closed[index] = true));
      socket.on('error', () => {});
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    await until(() => closed.filter(Boolean).length >= 4);
    expect(closed.filter(Boolean)).toHaveLength(4);
    // The first four stay open.
    expect(closed.slice(0, 4).some(Boolean)).toBe(false);
    for (const socket of sockets) socket.destroy();
    // The server answers again once it has seen the connections go.
    let health = 0;
    await until(async () => (health = (await rawRequest(server.port, { path: '/healthz', headers: { host: `127.0.0.1:${server.port}` } }).catch(() => ({ status: 0 }))).status) === 200);
    expect(health).toBe(200);
  });

  it('closes connections beyond --max-connections-per-address from one address, while another address still connects', async () => {
    const server = await start(tempDataDir(), ['--max-connections-per-address', '3']);
    const open = async (localAddress: string) => {
      const socket = connectTcp({ port: server.port, host: '127.0.0.1', localAddress });
      const state = { closed: false, socket };
      socket.on('close', () => (state.closed = true));
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      return state;
    };
    const greedy: Array<Awaited<ReturnType<typeof open>>> = [];
    for (let i = 0; i < 6; i++) greedy.push(await open('127.0.0.1'));
    await until(() => greedy.filter((c) => c.closed).length >= 3);
    expect(greedy.map((c) => c.closed)).toEqual([false, false, false, true, true, true]);
    // Another address (of this machine's loopback range) is not held back by the first one's connections.
    const other = await open('127.0.0.2');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(other.closed).toBe(false);
    other.socket.write(`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\nconnection: close\r\n\r\n`);
    let answer = '';
    other.socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    await until(() => other.closed);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    for (const c of greedy) c.socket.destroy();
  });

  it('answers 408 and closes a connection whose headers do not arrive within 10 s', async () => {
    const server = await start(tempDataDir());
    const socket = connectTcp(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    // Half a request, then nothing: the slow-headers pattern that holds a connection open.
    socket.write(`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\n`);
    await new Promise((resolve) => socket.once('close', resolve));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(9_000);
    expect(waited).toBeLessThan(15_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toMatch(/"jsonrpc":"2\.0"/);
  }, 30_000);
});
