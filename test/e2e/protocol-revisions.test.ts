import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdioTransport } from '@modelcontextprotocol/client/stdio';
import { DiscoverRequestSchema, JSONRPCRequestSchema } from '@modelcontextprotocol/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_HEADERS } from '../helpers/http-harness.js';
import { createKeyAsync } from '../helpers/auth-clients.js';
import { adminQuery, freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { rawRequest, sseMessages, spawnHttp, type HttpServer, type RawResponse } from '../helpers/spawn-http.js';
import { CLI, spawnRaw } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * Which MCP protocol revisions the built server serves, over stdio and
 * Streamable HTTP (sessions in memory, and in the database): the versions a
 * client offers at initialize and what it gets back, and what a client of the
 * 2026-07-28 revision (stateless: no initialize, no session, a `_meta`
 * envelope on every request) gets, with the real 2.x SDK client
 * (@modelcontextprotocol/client) as that client. See docs/protocol.md.
 */

const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
const MODERN = '2026-07-28';
const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
} as const;

const dirs = Array.from({ length: 3 }, () => makeTempDir('pinak-protocol-'));
let database: FreshDatabase;
let memoryHttp: HttpServer;
let databaseHttp: HttpServer;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  database = await freshDatabase();
  [memoryHttp, databaseHttp] = await Promise.all([
    spawnHttp(dirs[0]!.dir, ['--embed-model', 'none', '--http-sessions', 'memory']),
    spawnHttp(dirs[1]!.dir, ['--embed-model', 'none', '--database-url', database.url]),
  ]);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([memoryHttp?.stop(), databaseHttp?.stop()]);
  await database?.drop();
  for (const dir of dirs) dir.cleanup();
});

const initialize = (id: number, protocolVersion: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: `offers-${protocolVersion}`, version: '1.0.0' } },
});
const statsCall = (id: number, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'memory_stats', arguments: {}, ...(meta ? { _meta: meta } : {}) },
});
/** The `_meta` envelope a 2026-07-28 client puts on every request (the 2.x client sends exactly these keys). */
const envelope = (protocolVersion: string, name = 'stateless-agent') => ({
  [META.protocolVersion]: protocolVersion,
  [META.clientInfo]: { name, version: '2.4.0' },
  [META.clientCapabilities]: {},
});

// ---------------------------------------------------------------- stdio, raw JSON-RPC lines

interface StdioPeer {
  send(message: unknown): void;
  /** The answer to request `id`, once it comes. */
  answer(id: number): Promise<any>;
  end(): Promise<void>;
}

function stdioPeer(): StdioPeer {
  const child = spawnRaw(['--data-dir', dirs[2]!.dir, '--embed-model', 'none', '--log-level', 'warn']);
  children.push(child);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const answers = (): any[] => stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
  return {
    send: (message) => void child.stdin.write(`${JSON.stringify(message)}\n`),
    async answer(id) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = answers().find((m) => m.id === id);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no answer to ${id}; stdout: ${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async end() {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

// ---------------------------------------------------------------- HTTP, raw POSTs

/** The JSON-RPC message(s) of a response, whether the server answered with JSON or an SSE stream. */
function messagesOf(response: RawResponse): any[] {
  if (String(response.headers['content-type'] ?? '').startsWith('text/event-stream')) return sseMessages(response.body);
  const body = response.json();
  return Array.isArray(body) ? body : [body];
}

const post = (server: HttpServer, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });

/** Initialize offering `version`, then call a tool in the session with that version's header; what came back. */
async function negotiateOverHttp(server: HttpServer, version: string): Promise<{ status: number; protocolVersion: string; callStatus: number; call: any }> {
  const opened = await post(server, initialize(1, version));
  const [answer] = messagesOf(opened);
  const sessionId = opened.headers['mcp-session-id'] as string;
  const negotiated = answer.result.protocolVersion as string;
  const session = { 'mcp-session-id': sessionId, 'mcp-protocol-version': negotiated };
  await post(server, { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  const called = await post(server, statsCall(2), session);
  await rawRequest(server.port, { method: 'DELETE', path: '/mcp', headers: session });
  return { status: opened.status, protocolVersion: negotiated, callStatus: called.status, call: messagesOf(called)[0] };
}

/**
 * The 1.x SDK client over legacy SSE, its initialize request rewritten to offer `version`
 * (the client always offers its latest); the version the server answered, seen as the client receives it.
 */
async function negotiateOverSse(server: HttpServer, version: string): Promise<{ protocolVersion: string; call: any }> {
  const offering: typeof fetch = (input, init) => {
    const message = init?.method === 'POST' && typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    if (message?.method === 'initialize') init = { ...init, body: JSON.stringify({ ...message, params: { ...message.params, protocolVersion: version } }) };
    return fetch(input, init);
  };
  const transport = new SSEClientTransport(new URL('/sse', server.origin), { fetch: offering });
  const received: any[] = [];
  let handler: SSEClientTransport['onmessage'];
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    get: () => handler,
    set: (next: SSEClientTransport['onmessage']) => {
      handler = next && ((message: JSONRPCMessage) => {
        received.push(message);
        next(message);
      });
    },
  });
  const client = new LegacyClient({ name: `sse-offers-${version}`, version: '1.0.0' });
  await client.connect(transport);
  const call = await client.callTool({ name: 'memory_stats', arguments: {} });
  await client.close();
  return { protocolVersion: received.find((message) => message.result?.protocolVersion)?.result.protocolVersion, call };
}

const httpModes = (): Array<[string, HttpServer]> => [
  ['sessions in memory', memoryHttp],
  ['sessions in the database', databaseHttp],
];

// ---------------------------------------------------------------- the 2.x SDK client

type Negotiation = 'auto' | 'pin';
const modernClient = (mode: Negotiation): ModernClient =>
  new ModernClient({ name: `sdk2-${mode}`, version: '2.4.0' }, { versionNegotiation: mode === 'pin' ? { mode: { pin: MODERN } } : { mode } });
const modernStdio = (): ModernStdioTransport =>
  new ModernStdioTransport({ command: process.execPath, args: [CLI, '--data-dir', dirs[2]!.dir, '--embed-model', 'none', '--log-level', 'warn'], stderr: 'ignore' });
/** A verdict the 2.x client may be given instead of probing: "this server speaks 2026-07-28", so it sends stateless requests at once. */
const PRIOR_MODERN = { kind: 'modern' as const, discover: { supportedVersions: [MODERN], capabilities: { tools: {} } } };

/** A fetch for the 2.x client that keeps every request and response it exchanged. */
function recordingFetch(exchanges: Array<{ headers: Record<string, string>; body: any; status: number; response: string }>): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    exchanges.push({
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      status: response.status,
      response: await response.clone().text(),
    });
    return response;
  };
}

describe('protocol versions offered at initialize (2025-era clients)', () => {
  it.each(LEGACY_VERSIONS)('stdio: a client offering %s gets that version and can call tools', async (version) => {
    const peer = stdioPeer();
    peer.send(initialize(1, version));
    const answer = await peer.answer(1);
    peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    peer.send(statsCall(2));
    const call = await peer.answer(2);
    await peer.end();
    expect(answer.result.protocolVersion).toBe(version);
    expect(call.result.structuredContent.memories_total).toEqual(expect.any(Number));
  });

  it('stdio: a client offering 2026-07-28 at initialize gets 2025-11-25 (the newest the SDK knows) and can call tools', async () => {
    const peer = stdioPeer();
    peer.send(initialize(1, MODERN));
    const answer = await peer.answer(1);
    peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    peer.send(statsCall(2));
    const call = await peer.answer(2);
    await peer.end();
    expect(answer.result.protocolVersion).toBe('2025-11-25');
    expect(call.result.structuredContent.memories_total).toEqual(expect.any(Number));
  });

  for (const [label, server] of [['memory', () => memoryHttp], ['database', () => databaseHttp]] as const) {
    it.each(LEGACY_VERSIONS)(`Streamable HTTP, sessions in ${label}: a client offering %s gets that version and can call tools`, async (version) => {
      const outcome = await negotiateOverHttp(server(), version);
      expect(outcome).toMatchObject({ status: 200, protocolVersion: version, callStatus: 200 });
      expect(outcome.call.result.structuredContent.memories_total).toEqual(expect.any(Number));
    });

    it(`Streamable HTTP, sessions in ${label}: a client offering 2026-07-28 at initialize gets 2025-11-25 and can call tools`, async () => {
      const outcome = await negotiateOverHttp(server(), MODERN);
      expect(outcome).toMatchObject({ status: 200, protocolVersion: '2025-11-25', callStatus: 200 });
      expect(outcome.call.result.structuredContent.memories_total).toEqual(expect.any(Number));
    });
  }

  it.each([0, 1])('legacy SSE (%#: sessions in memory, in the database): each version offered is answered as offered, 2026-07-28 with 2025-11-25, and tools work', async (index) => {
    const [, server] = httpModes()[index]!;
    const answered: Record<string, string> = {};
    for (const version of [...LEGACY_VERSIONS, MODERN]) {
      const { protocolVersion, call } = await negotiateOverSse(server, version);
      answered[version] = protocolVersion;
      expect(call.structuredContent.memories_total).toEqual(expect.any(Number));
    }
    expect(answered).toEqual({ '2025-11-25': '2025-11-25', '2025-06-18': '2025-06-18', '2025-03-26': '2025-03-26', '2024-11-05': '2024-11-05', [MODERN]: '2025-11-25' });
  });
});

describe('the 2.x SDK client (2026-07-28 capable)', () => {
  it('negotiating (auto): probes with server/discover, is refused, falls back to initialize at 2025-11-25 and calls tools, over stdio and both HTTP modes', async () => {
    const eras: string[] = [];
    for (const transport of [() => modernStdio(), () => new ModernHttpTransport(new URL('/mcp', memoryHttp.origin)), () => new ModernHttpTransport(new URL('/mcp', databaseHttp.origin))]) {
      const client = modernClient('auto');
      await client.connect(transport());
      eras.push(`${client.getProtocolEra()} ${client.getNegotiatedProtocolVersion()}`);
      const result = await client.callTool({ name: 'memory_stats', arguments: {} });
      expect(result.structuredContent).toMatchObject({ memories_total: expect.any(Number) });
      await client.close();
    }
    expect(eras).toEqual(['legacy 2025-11-25', 'legacy 2025-11-25', 'legacy 2025-11-25']);
  });

  it('the server/discover probe: -32601 over stdio; over HTTP, 400 (no session, or an unsupported version)', async () => {
    const probe = { jsonrpc: '2.0', id: 7, method: 'server/discover', params: { _meta: envelope(MODERN) } };
    expect(DiscoverRequestSchema.safeParse(probe).success).toBe(true);
    const peer = stdioPeer();
    peer.send(probe);
    const stdioAnswer = await peer.answer(7);
    await peer.end();
    expect(stdioAnswer.error).toEqual({ code: -32601, message: 'Method not found' });
    const answers = [];
    for (const [, server] of httpModes()) {
      const response = await post(server, probe, { 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' });
      answers.push([response.status, response.json().error.code]);
    }
    // Sessions in memory: no session, so 400 (-32600); in the database, served statelessly but for its version: 400 (-32000).
    expect(answers).toEqual([
      [400, -32600],
      [400, -32000],
    ]);
  });

  it('pinned to 2026-07-28: cannot connect, over stdio and both HTTP modes (the server offers no 2026-07-28 through server/discover)', async () => {
    for (const transport of [() => modernStdio(), () => new ModernHttpTransport(new URL('/mcp', memoryHttp.origin)), () => new ModernHttpTransport(new URL('/mcp', databaseHttp.origin))]) {
      const client = modernClient('pin');
      await expect(client.connect(transport())).rejects.toThrow(/did not offer pinned protocol version 2026-07-28/);
      await client.close().catch(() => {});
    }
  });
});

describe('a 2026-07-28 stateless request (no initialize, no session, the _meta envelope)', () => {
  it('stdio: the tool runs and is answered, but in the 2025 shape: the 2.x client refuses the result (no resultType)', async () => {
    const peer = stdioPeer();
    const request = statsCall(3, envelope(MODERN));
    expect(JSONRPCRequestSchema.safeParse(request).success).toBe(true);
    peer.send(request);
    const answer = await peer.answer(3);
    await peer.end();
    expect(answer.result.structuredContent.memories_total).toEqual(expect.any(Number));
    expect(answer.result.resultType).toBeUndefined();

    const client = new ModernClient({ name: 'sdk2-prior', version: '2.4.0' });
    await client.connect(modernStdio(), { prior: PRIOR_MODERN });
    await expect(client.callTool({ name: 'memory_stats', arguments: {} })).rejects.toThrow(/missing required resultType/);
    await client.close();
  });

  /** What the 2.x client sends when told the server speaks 2026-07-28, and what it got back. */
  async function modernStatelessCall(server: HttpServer): Promise<{ error: Error; exchanges: Parameters<typeof recordingFetch>[0] }> {
    const exchanges: Parameters<typeof recordingFetch>[0] = [];
    const client = new ModernClient({ name: 'sdk2-prior', version: '2.4.0' });
    await client.connect(new ModernHttpTransport(new URL('/mcp', server.origin), { fetch: recordingFetch(exchanges) }), { prior: PRIOR_MODERN });
    const error = await client.callTool({ name: 'memory_stats', arguments: {} }).then(
      () => new Error('answered'),
      (caught: Error) => caught,
    );
    await client.close();
    // One POST, no session, the revision in a header and in the envelope.
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.headers).toMatchObject({ 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'memory_stats' });
    expect(exchanges[0]!.headers['mcp-session-id']).toBeUndefined();
    expect(exchanges[0]!.body.params._meta).toEqual(envelope(MODERN, 'sdk2-prior'));
    return { error, exchanges };
  }

  it('Streamable HTTP, sessions in memory: refused with 400, start a session first', async () => {
    const { error, exchanges } = await modernStatelessCall(memoryHttp);
    expect(error.message).toMatch(/no Mcp-Session-Id/);
    expect(exchanges[0]!.status).toBe(400);
    expect(JSON.parse(exchanges[0]!.response).error).toEqual({ code: -32600, message: expect.stringMatching(/no Mcp-Session-Id header; start a session with an initialize request first/) });
    // The same request naming 2025-11-25, with or without the header: refused alike.
    for (const headers of [{ 'mcp-protocol-version': '2025-11-25' }, {}] as Array<Record<string, string>>) {
      const response = await post(memoryHttp, statsCall(4, envelope('2025-11-25')), headers);
      expect(response.status).toBe(400);
      expect(response.json().error.code).toBe(-32600);
    }
  });

  it('Streamable HTTP, sessions in the database: refused with 400 naming the unsupported version 2026-07-28 and the supported ones', async () => {
    const { error, exchanges } = await modernStatelessCall(databaseHttp);
    expect(error.message).toMatch(/Unsupported protocol version/);
    expect(exchanges[0]!.status).toBe(400);
    expect(JSON.parse(exchanges[0]!.response).error).toEqual({
      code: -32000,
      message: 'Bad Request: Unsupported protocol version in _meta: "2026-07-28" (supported versions: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05, 2024-10-07)',
    });
    // The header alone naming 2026-07-28 is refused by the SDK's own check.
    const headerOnly = await post(databaseHttp, statsCall(5), { 'mcp-protocol-version': MODERN });
    expect(headerOnly.status).toBe(400);
    expect(headerOnly.json().error).toEqual({ code: -32000, message: expect.stringMatching(/^Bad Request: Unsupported protocol version: 2026-07-28/) });
    // Header and _meta naming different versions.
    const mismatch = await post(databaseHttp, statsCall(6, envelope('2025-11-25')), { 'mcp-protocol-version': '2025-06-18' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json().error.message).toMatch(/header \(2025-06-18\) and _meta \(2025-11-25\) name different protocol versions/);
  });

  it('Streamable HTTP, sessions in the database: a stateless request naming a supported version is served, opens no session, and is audited under the client its _meta names', async () => {
    const sessionsBefore = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM pinak_auth.http_sessions', [], database.url);
    const stored = await post(databaseHttp, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'remember', arguments: { content: 'the stateless quokka note zq8x' }, _meta: envelope('2025-11-25') } }, { 'mcp-protocol-version': '2025-11-25' });
    expect(stored.status).toBe(200);
    expect(stored.headers['mcp-session-id']).toBeUndefined();
    const id = messagesOf(stored)[0].result.structuredContent.stored[0].id as string;
    // Without the header, and without any _meta: a plain 2025-era request, served alike; a batch too.
    const found = await post(databaseHttp, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'zq8x', mode: 'keyword' } } });
    expect(found.status).toBe(200);
    expect(messagesOf(found)[0].result.structuredContent.hits.map((hit: { id: string }) => hit.id)).toEqual([id]);
    const batch = await post(databaseHttp, [statsCall(10, envelope('2025-06-18')), { jsonrpc: '2.0', id: 11, method: 'tools/list' }], { 'mcp-protocol-version': '2025-06-18' });
    expect(batch.status).toBe(200);
    expect(messagesOf(batch).map((m) => m.id).sort()).toEqual([10, 11]);
    expect(messagesOf(batch).find((m) => m.id === 11).result.tools).toHaveLength(9);
    // Not JSON-RPC at all: the SDK's transport answers it, with a JSON-RPC error.
    const junkAnswers: unknown[] = [];
    for (const junk of [{ hello: 'world' }, 42, [null], { jsonrpc: '2.0', id: 12, method: 'tools/call', params: { _meta: null } }]) {
      const refused = await post(databaseHttp, junk);
      junkAnswers.push([refused.status, refused.json().error]);
    }
    expect(junkAnswers).toEqual(Array.from({ length: 4 }, () => [400, { code: -32700, message: 'Parse error: Invalid JSON-RPC message' }]));
    const sessionsAfter = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM pinak_auth.http_sessions', [], database.url);
    expect(sessionsAfter.rows[0]!.n).toBe(sessionsBefore.rows[0]!.n);

    const audit = await adminQuery<{ tool: string; session_id: string; client_name: string | null; client_version: string | null }>(
      `SELECT a.tool, a.session_id, s.client_name, s.client_version FROM pinak.audit_log a LEFT JOIN pinak.audit_sessions s USING (session_id) WHERE a.tool IN ('remember', 'search_memory') ORDER BY a.seq`,
      [],
      database.url,
    );
    // A name in _meta is bounded as one given at initialize: 128 characters, control characters replaced.
    const long = await post(databaseHttp, statsCall(13, { ...envelope('2025-11-25'), [META.clientInfo]: { name: `\u0007${'n'.repeat(5000)}`, version: 'v'.repeat(300) } }));
    expect(long.status).toBe(200);
    const bounded = await adminQuery<{ client_name: string; client_version: string }>(
      `SELECT s.client_name, s.client_version FROM pinak.audit_log a JOIN pinak.audit_sessions s USING (session_id) WHERE a.tool = 'memory_stats' AND s.client_name LIKE '%nnn%'`,
      [],
      database.url,
    );
    expect(bounded.rows).toEqual([{ client_name: `\uFFFD${'n'.repeat(127)}`, client_version: 'v'.repeat(128) }]);
    const remember = audit.rows.find((row) => row.tool === 'remember');
    const search = audit.rows.find((row) => row.tool === 'search_memory');
    expect(remember).toMatchObject({ client_name: 'stateless-agent', client_version: '2.4.0' });
    expect(search?.client_name ?? null).toBeNull();
    expect(search!.session_id).not.toBe(remember!.session_id);
  });

  it('Streamable HTTP, sessions in the database: keys still apply to stateless requests (401 without one, the role and tenant of the one sent)', async () => {
    const dir = makeTempDir('pinak-protocol-keys-');
    const keyed = await freshDatabase();
    const server = await spawnHttp(dir.dir, ['--embed-model', 'none', '--database-url', keyed.url, '--auth', 'keys']);
    try {
      const reader = (await createKeyAsync(dir.dir, ['--tenant', 'acme', '--role', 'reader', '--database-url', keyed.url])).key;
      const remember = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'remember', arguments: { content: 'not for readers' }, _meta: envelope('2025-11-25') } };
      const anonymous = await post(server, remember, { 'mcp-protocol-version': '2025-11-25' });
      expect(anonymous.status).toBe(401);
      const refused = await post(server, remember, { 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${reader}` });
      expect(refused.status).toBe(200);
      expect(messagesOf(refused)[0].result).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringMatching(/forbidden: the reader role cannot call remember/) }] });
      const stats = await post(server, statsCall(2, envelope('2025-11-25')), { 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${reader}` });
      expect(messagesOf(stats)[0].result.structuredContent.memories_total).toBe(0);
      const audit = await adminQuery<{ tool: string; client_name: string }>(
        'SELECT a.tool, s.client_name FROM tenant_acme.audit_log a JOIN tenant_acme.audit_sessions s USING (session_id) ORDER BY a.seq',
        [],
        keyed.url,
      );
      expect(audit.rows).toEqual([
        { tool: 'remember', client_name: 'stateless-agent' },
        { tool: 'memory_stats', client_name: 'stateless-agent' },
      ]);
    } finally {
      await server.stop();
      await keyed.drop();
      dir.cleanup();
    }
  });
});
