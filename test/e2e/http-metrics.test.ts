import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callError, callOk } from '../helpers/calls.js';
import { parsePrometheusText, type Scrape } from '../helpers/prometheus-text.js';
import { useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest, type HttpServer } from '../helpers/spawn-http.js';
import { runCli } from '../helpers/spawn-server.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-metrics-');

const scrapeRaw = (server: HttpServer, key?: string) =>
  rawRequest(server.port, { path: '/metrics', headers: { host: `127.0.0.1:${server.port}`, ...(key ? { authorization: `Bearer ${key}` } : {}) } });

async function scrape(server: HttpServer, key?: string): Promise<Scrape> {
  const answer = await scrapeRaw(server, key);
  expect(answer.status, answer.body).toBe(200);
  expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(answer.body);
}

describe('GET /metrics', () => {
  it('counts tool calls, errors and latency per tool, refusals, sessions and each open tenant\'s index, for the operator\'s admin key only', async () => {
    const dir = tempDataDir();
    const operator = createKey(dir, ['--tenant', 'local', '--role', 'admin']);
    const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const refused = [
      createKey(dir, ['--tenant', 'local', '--role', 'reader']),
      createKey(dir, ['--tenant', 'local', '--role', 'writer']),
      createKey(dir, ['--tenant', 'acme', '--role', 'admin']),
      createKey(dir, ['--tenant', 'local', '--role', 'admin', '--namespaces', 'ops']),
    ];
    const server = await start(dir);

    const anonymous = await scrapeRaw(server);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="pinak-memory"');
    for (const key of refused) {
      const answer = await scrapeRaw(server, key.key);
      expect(answer.status, key.id).toBe(403);
      expect(answer.json().error.message).toMatch(/^Forbidden: \/metrics needs an admin key of the local tenant/);
      expect(answer.body).not.toContain('pk_');
    }
    expect((await rawRequest(server.port, { method: 'POST', path: '/metrics', headers: { host: `127.0.0.1:${server.port}` } })).status).toBe(405);

    const before = await scrape(server, operator.key);
    expect(before.value('pinak_tool_calls_total', { tool: 'remember', status: 'ok' })).toBeUndefined();
    expect(before.value('pinak_open_tenants')).toBe(1);
    expect(before.value('pinak_http_requests_refused_total', { reason: 'no_key' })).toBe(1);
    expect(before.value('pinak_http_requests_refused_total', { reason: 'forbidden' })).toBe(4);
    expect(before.value('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(before.types.get('pinak_tool_call_duration_seconds')).toBe('histogram');

    const { client } = await connect(keyedClient(server.origin, writer.key));
    await callOk(client, 'remember', { content: 'The falcon release ships on Friday' });
    await callOk(client, 'remember', { content: 'The heron release ships in May' });
    await callOk(client, 'search_memory', { query: 'release' });
    expect(await callError(client, 'remember', { content: '' })).toMatch(/content/);
    expect(await callError(client, 'forget', { ids: ['01J00000000000000000000000'] })).toMatch(/^forbidden/);
    // A made-up tool name is a JSON-RPC error, counted under one label whatever the name.
    await expect(client.callTool({ name: 'drop_everything', arguments: {} })).rejects.toThrow(/-32602: Unknown tool: drop_everything$/);
    // Resources and prompts are counted apart from tools, by method.
    await client.listResources();
    await client.readResource({ uri: 'pinak://recent' });
    await expect(client.readResource({ uri: 'pinak://memory/01J00000000000000000000000' })).rejects.toThrow();

    const after = await scrape(server, operator.key);
    expect(after.value('pinak_tool_calls_total', { tool: 'remember', status: 'ok' })).toBe(2);
    expect(after.value('pinak_tool_calls_total', { tool: 'remember', status: 'invalid' })).toBe(1);
    expect(after.value('pinak_tool_calls_total', { tool: 'search_memory', status: 'ok' })).toBe(1);
    expect(after.value('pinak_tool_calls_total', { tool: 'forget', status: 'error' })).toBe(1);
    expect(after.value('pinak_tool_errors_total', { tool: 'remember', code: 'invalid_input' })).toBe(1);
    expect(after.value('pinak_tool_errors_total', { tool: 'forget', code: 'forbidden' })).toBe(1);
    expect(after.value('pinak_tool_calls_total', { tool: 'unknown', status: 'invalid' })).toBe(1);
    expect(after.value('pinak_tool_errors_total', { tool: 'unknown', code: 'unknown_tool' })).toBe(1);
    expect(after.samples.some((sample) => Object.values(sample.labels).includes('drop_everything'))).toBe(false);
    expect(after.value('pinak_requests_total', { method: 'resources/list', status: 'ok' })).toBe(1);
    expect(after.value('pinak_requests_total', { method: 'resources/read', status: 'ok' })).toBe(1);
    expect(after.value('pinak_requests_total', { method: 'resources/read', status: 'error' })).toBe(1);
    expect(after.value('pinak_request_duration_seconds_count', { method: 'resources/read' })).toBe(2);
    expect(after.value('pinak_tool_calls_total', { tool: 'resources/read', status: 'ok' })).toBeUndefined();
    expect(after.value('pinak_tool_call_duration_seconds_count', { tool: 'remember' })).toBe(3);
    expect(after.value('pinak_tool_call_duration_seconds_bucket', { tool: 'remember', le: '+Inf' })).toBe(3);
    expect(after.value('pinak_tool_call_duration_seconds_sum', { tool: 'remember' })).toBeGreaterThan(0);
    expect(after.value('pinak_http_sessions', { transport: 'streamable' })).toBe(1);
    expect(after.value('pinak_open_tenants')).toBe(2);
    expect(after.value('pinak_vector_index_vectors', { tenant: 'acme' })).toBe(2);
    expect(after.value('pinak_vector_index_vectors', { tenant: 'local' })).toBe(0);
    expect(after.value('pinak_embedding_queue', { tenant: 'acme' })).toBe(0);
    expect(after.value('pinak_vector_index_backlog', { tenant: 'acme' })).toBeGreaterThanOrEqual(0);

    // Refusals are audited in the server's own trail; no key reached the log.
    const exported = runCli(['--data-dir', dir, 'audit', 'export']);
    const rows = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const metricsRows = rows.filter((row) => row.tool === 'http GET /metrics');
    expect(metricsRows.map((row) => row.error_code)).toEqual(['no_key', 'forbidden', 'forbidden', 'forbidden', 'forbidden']);
    expect(metricsRows[3]).toMatchObject({ principal_id: refused[2]!.id, tenant: 'acme', status: 'error' });
    for (const key of [operator, writer, ...refused]) expect(server.stderr()).not.toContain(key.key.slice(3));
    expect(server.stdout()).toBe('');
  });

  it('is open to the local principal while no key is required on loopback', async () => {
    const server = await start(tempDataDir(), ['--embed-model', 'none']);
    const { client } = await connect(keyedClient(server.origin, undefined));
    await callOk(client, 'memory_stats');
    const scraped = await scrape(server);
    expect(scraped.value('pinak_tool_calls_total', { tool: 'memory_stats', status: 'ok' })).toBe(1);
    // Without a vector index there are no index gauges, only their HELP and TYPE.
    expect(scraped.types.get('pinak_vector_index_vectors')).toBe('gauge');
    expect(scraped.value('pinak_vector_index_vectors', { tenant: 'local' })).toBeUndefined();
  });

  it('shows tenants closed once idle beyond --max-open-tenants, and reopened with their data on the next session', async () => {
    const dir = tempDataDir();
    const operator = createKey(dir, ['--tenant', 'local', '--role', 'admin']);
    const acme = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const globex = createKey(dir, ['--tenant', 'globex', '--role', 'writer']);
    const server = await start(dir, ['--embed-model', 'none', '--max-open-tenants', '1']);
    const open = async () => {
      const scraped = await scrape(server, operator.key);
      return [scraped.value('pinak_open_tenants'), scraped.value('pinak_http_sessions', { transport: 'streamable' })];
    };

    const first = await keyedClient(server.origin, acme.key);
    await callOk(first.client, 'remember', { content: 'acme keeps this across closes' });
    const second = await connect(keyedClient(server.origin, globex.key));
    // Both in use: over the cap, yet both stay open.
    expect(await open()).toEqual([3, 2]);
    await first.transport.terminateSession();
    await first.client.close();
    // acme has no session left: closed down to the cap (local + globex).
    await expect.poll(open, { timeout: 5000 }).toEqual([2, 1]);
    expect(server.stderr()).toMatch(/closing an idle tenant/);
    const back = await connect(keyedClient(server.origin, acme.key));
    expect((await callOk(back.client, 'search_memory', { query: 'acme keeps' })).hits).toHaveLength(1);
    await callOk(second.client, 'memory_stats');
  });
});
