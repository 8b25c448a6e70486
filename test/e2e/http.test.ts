import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest, sseClient, sseMessages, streamableClient } from '../helpers/spawn-http.js';
import { runCli } from '../helpers/spawn-server.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-http-');

/** Every one of the nine tools, once; returns what it stored. */
async function exerciseEveryTool(client: Client, word: string): Promise<{ fact: string; turn: string }> {
  const names = (await client.listTools()).tools.map((t) => t.name).sort();
  expect(names).toEqual(['forget', 'get_goal', 'get_memory', 'list_goals', 'memory_stats', 'record_outcome', 'remember', 'remember_goal', 'search_memory']);
  const fact = (await callOk(client, 'remember', { content: `The ${word} team deploys on Tuesdays`, kind: 'fact' })).stored[0].id as string;
  const turn = (await callOk(client, 'remember', { content: `Dana: the ${word} deploy broke login`, layer: 'episodic', kind: 'turn', occurred_at: '2025-01-02T03:04:05Z' })).stored[0].id as string;
  const doomed = (await callOk(client, 'remember', { content: `A ${word} note to forget` })).stored[0].id as string;
  const goal = (await callOk(client, 'remember_goal', { title: `Fix the ${word} login`, plan: [{ title: 'Reproduce' }, { title: 'Patch' }] })).goal;
  const step = (await callOk(client, 'remember_goal', { goal_id: goal.id, step_updates: [{ step_id: goal.steps[0].id, status: 'done' }] })).goal.steps[0];
  expect(step.status).toBe('done');
  const outcome = await callOk(client, 'record_outcome', { goal_id: goal.id, result: 'success', summary: `Patched the ${word} cookie`, lessons: [`Check ${word} cookies after a deploy`] });
  expect(outcome.goal.status).toBe('achieved');
  const hits = (await callOk(client, 'search_memory', { query: `${word} deploy`, mode: 'keyword' })).hits.map((h: { id: string }) => h.id);
  expect(hits).toEqual(expect.arrayContaining([fact, turn]));
  expect((await callOk(client, 'get_memory', { ids: [fact, turn] })).memories).toHaveLength(2);
  expect((await callOk(client, 'get_goal', { goal_id: goal.id })).goal.outcomes).toHaveLength(1);
  expect((await callOk(client, 'list_goals', { statuses: ['achieved'] })).goals.map((g: { id: string }) => g.id)).toContain(goal.id);
  expect((await callOk(client, 'forget', { ids: [doomed] })).forgotten).toEqual([doomed]);
  expect((await callOk(client, 'memory_stats')).memories_total).toBeGreaterThanOrEqual(3);
  expect(await callError(client, 'remember', { content: '' })).toMatch(/content/);
  return { fact, turn };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the built CLI over HTTP', () => {
  it('serves every tool over Streamable HTTP and over legacy SSE, on one shared store', async () => {
    const server = await start(tempDataDir());
    const { client: http } = await connect(streamableClient(server.origin));
    const { client: sse } = await connect(sseClient(server.origin));
    const overHttp = await exerciseEveryTool(http, 'walrus');
    const overSse = await exerciseEveryTool(sse, 'pelican');

    // What one transport wrote, the other finds.
    expect((await callOk(sse, 'get_memory', { ids: [overHttp.fact] })).memories[0].content).toBe('The walrus team deploys on Tuesdays');
    expect((await callOk(sse, 'search_memory', { query: 'walrus', mode: 'keyword' })).hits.map((h: { id: string }) => h.id)).toContain(overHttp.fact);
    expect((await callOk(http, 'get_memory', { ids: [overSse.turn] })).memories[0].content).toBe('Dana: the pelican deploy broke login');
    expect((await callOk(http, 'search_memory', { query: 'pelican' })).hits.map((h: { id: string }) => h.id)).toContain(overSse.fact);
    expect(server.stdout()).toBe('');
  });

  it('answers probes, unknown paths and wrong methods with small JSON bodies', async () => {
    const server = await start(tempDataDir(), ['--embed-model', 'none']);
    const health = await rawRequest(server.port, { path: '/healthz', headers: { host: `localhost:${server.port}` } });
    expect([health.status, health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await rawRequest(server.port, { path: '/readyz', headers: { host: `127.0.0.1:${server.port}` } });
    expect([ready.status, ready.json()]).toEqual([200, { status: 'ready' }]);
    const unknown = await rawRequest(server.port, { path: '/admin?x=1', headers: { host: `127.0.0.1:${server.port}` } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toBe('application/json');
    expect(unknown.json().error).toMatch(/Not Found: \/admin;.*\/mcp/);
    const badTarget = await rawRequest(server.port, { path: '//', headers: { host: `127.0.0.1:${server.port}` } });
    expect([badTarget.status, badTarget.json().error]).toEqual([400, expect.stringMatching(/not a valid path/)]);
    const wrongMethod = await rawRequest(server.port, { method: 'POST', path: '/healthz', headers: { host: `127.0.0.1:${server.port}` } });
    expect(wrongMethod.status).toBe(405);
    expect((await rawRequest(server.port, { method: 'PUT', path: '/mcp', headers: { host: `127.0.0.1:${server.port}` } })).status).toBe(405);
    // No session header and no initialize: a clear 400, not a hang.
    const orphan = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}` }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expect(orphan.status).toBe(400);
    expect(orphan.json().error.message).toMatch(/initialize/);
    const broken = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}` }, body: '{not json' });
    expect([broken.status, broken.json().error.code]).toEqual([400, -32700]);
    const unknownSession = await rawRequest(server.port, { method: 'POST', path: '/messages?sessionId=nope', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}` }, body: '{}' });
    expect([unknownSession.status, unknownSession.json().error.code]).toEqual([404, -32001]);
    expect(server.stdout()).toBe('');
  });

  it('refuses a foreign Host or Origin with 403 and a JSON-RPC error, and accepts configured ones', async () => {
    const server = await start(tempDataDir(), ['--embed-model', 'none', '--allowed-hosts', 'memory.internal', '--allowed-origins', 'https://app.example.com']);
    const at = (headers: Record<string, string>, path = '/metrics') => rawRequest(server.port, { path, headers });
    const foreignHost = await at({ host: `evil.example:${server.port}` });
    expect(foreignHost.status).toBe(403);
    expect(foreignHost.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/Host header "evil\.example:\d+" is not allowed/) } });
    // The loopback names are allowed only with the listening port.
    expect((await at({ host: 'localhost:1' })).status).toBe(403);
    const foreignOrigin = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, origin: 'http://evil.example' }, body: initializeBody() });
    expect(foreignOrigin.status).toBe(403);
    expect(foreignOrigin.json().error.message).toMatch(/Origin "http:\/\/evil\.example" is not allowed/);
    expect((await at({ host: `127.0.0.1:${server.port}`, origin: 'null' })).status).toBe(403);
    expect((await at({ host: `127.0.0.1:${server.port}`, origin: 'http://localhost:1' })).status).toBe(403);

    expect((await at({ host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` })).status).toBe(200);
    expect((await at({ host: `[::1]:${server.port}`, origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
    expect((await at({ host: 'memory.internal', origin: 'https://app.example.com' })).status).toBe(200);
    expect((await at({ host: 'MEMORY.internal:8443' })).status).toBe(200);
    // A configured host and origin reach MCP, too.
    const opened = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: 'memory.internal', origin: 'https://app.example.com' }, body: initializeBody() });
    expect(opened.status).toBe(200);
    expect(opened.headers['mcp-session-id']).toBeTruthy();
  });

  it('refuses request bodies over --max-body-bytes with 413, whether declared or streamed, and keeps serving', async () => {
    const server = await start(tempDataDir(), ['--embed-model', 'none', '--max-body-bytes', '4096']);
    const host = `127.0.0.1:${server.port}`;
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(8000) } });
    const declared = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host, 'content-length': String(big.length) }, body: big });
    expect(declared.status).toBe(413);
    expect(declared.json().error.message).toMatch(/over 4096 bytes.*--max-body-bytes/);
    const chunks = Array.from({ length: 10 }, () => 'y'.repeat(1024));
    const streamed = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host }, body: chunks });
    expect(streamed.status).toBe(413);
    const wrongType = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { host, accept: JSON_HEADERS.accept, 'content-type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(415);

    // Through the SDK clients: an oversized call fails, a normal one still works.
    const { client: http } = await connect(streamableClient(server.origin));
    await expect(http.callTool({ name: 'remember', arguments: { content: 'z'.repeat(6000) } })).rejects.toThrow(/Payload Too Large/);
    expect((await callOk(http, 'remember', { content: 'small enough' })).count).toBe(1);
    const { client: sse } = await connect(sseClient(server.origin));
    await expect(sse.callTool({ name: 'remember', arguments: { content: 'z'.repeat(6000) } })).rejects.toThrow(/413/);
    expect((await callOk(sse, 'memory_stats')).memories_total).toBe(1);
    expect((await rawRequest(server.port, { path: '/healthz', headers: { host } })).status).toBe(200);
  });

  it('caps open sessions with 503, and DELETE ends a session', async () => {
    const server = await start(tempDataDir(), ['--embed-model', 'none', '--max-sessions', '2']);
    const host = `127.0.0.1:${server.port}`;
    const first = await connect(streamableClient(server.origin));
    const second = await connect(sseClient(server.origin));
    const refused = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host }, body: initializeBody() });
    expect(refused.status).toBe(503);
    expect(refused.json().error.message).toMatch(/limit of 2 sessions.*--max-sessions/);
    expect((await rawRequest(server.port, { path: '/sse', headers: { host } })).status).toBe(503);
    await expect(streamableClient(server.origin)).rejects.toThrow();

    // DELETE ends the first session: its id is refused afterwards and its place is free.
    const sessionId = first.transport.sessionId!;
    await first.transport.terminateSession();
    const gone = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }, body: '{"jsonrpc":"2.0","id":5,"method":"tools/list"}' });
    expect([gone.status, gone.json().error.code]).toEqual([404, -32001]);
    const third = await connect(streamableClient(server.origin));
    expect((await callOk(third.client, 'memory_stats')).memories_total).toBe(0);

    // A legacy SSE client that disconnects frees its place too.
    await second.client.close();
    await waitFor(() => (server.stderr().match(/"reason":"ended"/g) ?? []).length === 2);
    const fourth = await connect(sseClient(server.origin));
    expect((await callOk(fourth.client, 'memory_stats')).memories_total).toBe(0);
  });

  it('caps requests in flight per session with a JSON-RPC error, and frees the places as answers go out', async () => {
    const server = await start(tempDataDir(), ['--embed-model', 'none', '--max-calls-per-session', '2']);
    const { client, transport } = await connect(streamableClient(server.origin));
    // One POST carrying five requests: all five arrive before any is answered.
    const batch = Array.from({ length: 5 }, (_, i) => ({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'memory_stats', arguments: {} } }));
    const answer = await rawRequest(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': transport.protocolVersion ?? '2025-06-18' },
      body: JSON.stringify(batch),
    });
    expect(answer.status).toBe(200);
    const messages = sseMessages(answer.body) as Array<{ id: number; result?: unknown; error?: { code: number; message: string } }>;
    expect(messages.map((m) => m.id).sort()).toEqual([100, 101, 102, 103, 104]);
    expect(messages.filter((m) => m.result).length).toBe(2);
    const refused = messages.filter((m) => m.error);
    expect(refused).toHaveLength(3);
    for (const m of refused) expect(m.error).toEqual({ code: -32000, message: expect.stringMatching(/Too many requests in flight on this session \(limit 2\)/) });
    // The places are free again.
    await Promise.all([callOk(client, 'memory_stats'), callOk(client, 'memory_stats')]);
  });

  it('closes sessions idle for --session-idle-seconds, over both transports', async () => {
    const server = await start(tempDataDir(), ['--embed-model', 'none', '--session-idle-seconds', '1']);
    const http = await connect(streamableClient(server.origin));
    await connect(sseClient(server.origin));
    const sessionId = http.transport.sessionId!;
    const sseSession = /"session":"([^"]+)","transport":"sse"/.exec(server.stderr())![1]!;
    const closedIdle = (id: string) => server.stderr().includes(`"session":"${id}","reason":"idle"`);
    await waitFor(() => closedIdle(sessionId) && closedIdle(sseSession), 5000);
    const sseGone = await rawRequest(server.port, {
      method: 'POST',
      path: `/messages?sessionId=${sseSession}`,
      headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}` },
      body: '{"jsonrpc":"2.0","id":9,"method":"tools/list"}',
    });
    expect([sseGone.status, sseGone.json().error.code]).toEqual([404, -32001]);
    const gone = await rawRequest(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: '{"jsonrpc":"2.0","id":9,"method":"tools/list"}',
    });
    expect([gone.status, gone.json().error.code]).toEqual([404, -32001]);
    // A new session works as before.
    const again = await connect(streamableClient(server.origin));
    expect((await callOk(again.client, 'memory_stats')).memories_total).toBe(0);
  });

  it('refuses a non-loopback address, a taken port and bad HTTP settings with one line and exit 1', async () => {
    const dir = tempDataDir();
    for (const host of ['0.0.0.0', '::', 'example.com']) {
      const result = runCli(['--data-dir', dir, '--transport', 'http', '--host', host]);
      expect(result.status, host).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^pinak-memory: refusing to listen on ${host.replace(/\./g, '\\.')}: .*authentication.*\\n$`));
    }
    // Refused before the database was opened.
    expect(existsSync(join(dir, 'pinak.db'))).toBe(false);

    const server = await start(tempDataDir(), ['--embed-model', 'none']);
    const taken = runCli(['--data-dir', tempDataDir(), '--embed-model', 'none', '--log-level', 'silent', '--transport', 'http', '--port', String(server.port)]);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toBe(`pinak-memory: cannot listen on 127.0.0.1:${server.port}: the address is already in use\n`);

    for (const [flag, value] of [['--transport', 'pigeon'], ['--port', '70000'], ['--allowed-origins', 'not an origin'], ['--allowed-hosts', 'a b']] as const) {
      const bad = runCli(['--data-dir', dir, '--transport', 'http', flag, value]);
      expect(bad.status, flag).toBe(1);
      expect(bad.stderr).toMatch(new RegExp(`^pinak-memory: invalid flag ${flag} .*\\n$`));
    }
    const help = runCli(['serve', '--help']);
    for (const flag of ['--transport', '--host', '--port', '--allowed-hosts', '--allowed-origins', '--max-body-bytes', '--max-sessions', '--max-calls-per-session', '--session-idle-seconds']) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain('PINAK_TRANSPORT');
  });

  it('on SIGTERM finishes the calls in flight, closes the sessions and exits 0, keeping what it acknowledged', async () => {
    const dataDir = tempDataDir();
    const server = await start(dataDir, ['--embed-model', 'none']);
    const { client: http } = await connect(streamableClient(server.origin));
    const { client: sse } = await connect(sseClient(server.origin));
    const calls = Array.from({ length: 12 }, (_, id) =>
      (id % 2 ? http : sse).callTool(
        { name: 'remember', arguments: { memories: Array.from({ length: 20 }, (_, i) => ({ content: `shutdown ${id} ${i}` })) } },
        undefined,
        { timeout: 8000 },
      ),
    );
    // Signal once the first answer is back, with the others still running or queued.
    await Promise.race(calls);
    expect(await server.stop('SIGTERM')).toBe(0);
    const settled = await Promise.allSettled(calls);
    expect(server.stdout()).toBe('');
    expect(server.stderr()).toContain('shutting down');
    const stored = settled.reduce((n, s) => n + (s.status === 'fulfilled' && !s.value.isError ? ((s.value.structuredContent as { count: number }).count ?? 0) : 0), 0);
    expect(stored).toBeGreaterThanOrEqual(20);
    // Every call ended one way or the other, none hung until the client's timeout: an answer, a
    // refusal ("shutting down"), or a connection the server no longer accepts.
    for (const outcome of settled) if (outcome.status === 'rejected') expect(String(outcome.reason)).not.toMatch(/timed out/i);

    const again = await start(dataDir, ['--embed-model', 'none']);
    const { client } = await connect(streamableClient(again.origin));
    expect((await callOk(client, 'memory_stats')).memories_total).toBeGreaterThanOrEqual(stored);
  });
});
