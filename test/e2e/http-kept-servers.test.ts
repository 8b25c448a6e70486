import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { auditOf, initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest, sseMessages, type HttpServer, type RawResponse } from '../helpers/spawn-http.js';

// Sessions in the database (the data directory's shared file), served by one process: the kept servers of session-servers.ts.
const { tempDataDir, start } = useHttpHarness('pinak-kept-servers-', { args: ['--embed-model', 'none', '--http-sessions', 'database', '--log-level', 'debug', '--rate-limit-per-minute', '0'] });

/** Open a session with raw requests; `post` sends to it, from `localAddress` when given. */
async function rawSession(server: HttpServer) {
  const headers = { ...JSON_HEADERS, host: `127.0.0.1:${server.port}` };
  const opened = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers, body: initializeBody() });
  expect(opened.status).toBe(200);
  const id = String(opened.headers['mcp-session-id']);
  const session = { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
  const post = (body: unknown, localAddress?: string): Promise<RawResponse> => rawRequest(server.port, { method: 'POST', path: '/mcp', headers: session, body: JSON.stringify(body), localAddress });
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { id, post, end: () => rawRequest(server.port, { method: 'DELETE', path: '/mcp', headers: session }) };
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
/** The one JSON-RPC message of an answer, as JSON or as a stream. */
const answerOf = (response: RawResponse): any => (response.headers['content-type']?.includes('text/event-stream') ? sseMessages(response.body)[0] : response.json());
/** How many MCP servers the process built for a session (a debug line each). */
const serversBuilt = (server: HttpServer, sessionId: string): number =>
  server
    .stderr()
    .split('\n')
    .filter((line) => line.includes('MCP server connected') && line.includes(sessionId)).length;

describe('shared sessions keep their server between POSTs', () => {
  it('serves every POST of a session on one server, and a new session on another', async () => {
    const dir = tempDataDir();
    const server = await start(dir);
    const first = await rawSession(server);
    for (let i = 0; i < 6; i++) {
      const answer = answerOf(await first.post(call(10 + i, i % 2 ? 'memory_stats' : 'remember', i % 2 ? {} : { content: `kept server fact ${i}` })));
      expect(answer.id).toBe(10 + i);
      expect(answer.result.isError ?? false).toBe(false);
    }
    // initialize, notifications/initialized and six calls: one server (before, one for each of the eight POSTs).
    expect(serversBuilt(server, first.id)).toBe(1);

    const second = await rawSession(server);
    expect(answerOf(await second.post(call(1, 'search_memory', { query: 'kept server fact' }))).result.structuredContent.hits).toHaveLength(3);
    expect(serversBuilt(server, second.id)).toBe(1);

    // Ended: its server goes, and its id answers 404 (the directory is asked at every POST, as before).
    expect((await first.end()).status).toBe(200);
    const gone = await first.post(call(99, 'memory_stats'));
    expect(gone.status).toBe(404);
    expect(answerOf(await second.post(call(2, 'memory_stats'))).result.isError ?? false).toBe(false);
    expect(serversBuilt(server, second.id)).toBe(1);

    // Every call is in the trail under its session's one audit id.
    const rows = auditOf(dir).filter((row) => row.tool !== null);
    expect(rows.filter((row) => row.tool === 'remember')).toHaveLength(3);
    expect(new Set(rows.map((row) => row.session_id)).size).toBe(2);
  });

  it('audits each POST under the address it came from, though one server serves the session', async () => {
    const dir = tempDataDir();
    const server = await start(dir);
    const session = await rawSession(server);
    for (const [i, from] of ['127.0.0.1', '127.0.0.2', '127.0.0.2', '127.0.0.1'].entries()) {
      expect(answerOf(await session.post(call(i + 1, 'memory_stats'), from)).id).toBe(i + 1);
    }
    const addresses = auditOf(dir)
      .filter((row) => row.tool === 'memory_stats')
      .map((row) => row.remote_address);
    expect(addresses).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.2', '127.0.0.1']);
    // A new address is a new principal: the server is built again for it, and for the first address once more.
    expect(serversBuilt(server, session.id)).toBe(3);
  });

  it('counts the requests of all the POSTs of a session this process serves against --max-calls-per-session, and answers each on its own POST', async () => {
    const dir = tempDataDir();
    const server = await start(dir, ['--max-calls-per-session', '1', '--busy-timeout-ms', '20000']);
    const session = await rawSession(server);
    expect(answerOf(await session.post(call(1, 'memory_stats'))).id).toBe(1);

    // Another connection holds SQLite's write lock: the write's audit row waits for it, so its request stays in flight.
    const holder = new Database(join(dir, 'pinak.db'));
    holder.exec('BEGIN IMMEDIATE');
    let released = false;
    try {
      const held = session.post(call(2, 'remember', { content: 'written once the lock is free' }));
      // Let the held POST reach the server first.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const refused = answerOf(await session.post(call(3, 'memory_stats')));
      expect(refused).toMatchObject({ id: 3, error: { code: -32000, message: expect.stringMatching(/Too many requests in flight on this session \(limit 1\)/) } });
      holder.exec('ROLLBACK');
      released = true;
      const written = answerOf(await held);
      expect(written.id).toBe(2);
      expect(written.result.isError ?? false).toBe(false);
    } finally {
      if (!released) holder.exec('ROLLBACK');
      holder.close();
    }
    // Its answer given, the session takes a request again.
    expect(answerOf(await session.post(call(4, 'memory_stats'))).result.isError ?? false).toBe(false);
  });

  it('cancels the requests of a POST whose client goes away before the answer, though the server stays for the session', async () => {
    const dir = tempDataDir();
    const server = await start(dir, ['--busy-timeout-ms', '20000']);
    const session = await rawSession(server);
    const holder = new Database(join(dir, 'pinak.db'));
    holder.exec('BEGIN IMMEDIATE');
    try {
      // A write that first searches for its duplicates (on_duplicate), waiting for the lock to open its audit row.
      const body = JSON.stringify(call(5, 'remember', { content: 'a fact whose client went away', on_duplicate: 'skip' }));
      const sent = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, 'mcp-session-id': session.id, 'mcp-protocol-version': '2025-06-18' } });
      sent.on('error', () => {});
      sent.end(body);
      await new Promise((resolve) => setTimeout(resolve, 300));
      sent.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    // The call ran once the lock was free, with its signal aborted: its duplicate search stopped it, and nothing was stored.
    let rows: Array<Record<string, any>> = [];
    for (let i = 0; i < 50 && !rows.some((row) => row.tool === 'remember' && row.error_code !== 'unfinished'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = auditOf(dir);
    }
    expect(rows.filter((row) => row.tool === 'remember').map((row) => row.error_code)).toEqual(['cancelled']);
    const found = answerOf(await session.post(call(6, 'search_memory', { query: 'fact whose client went away' })));
    expect(found.result.structuredContent.hits).toHaveLength(0);
    expect(serversBuilt(server, session.id)).toBe(1);
  });
});
