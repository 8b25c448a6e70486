import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { spawnRaw, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDataDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-e2e-');
  cleanups.push(cleanup);
  return dir;
}

async function start(dataDir: string): Promise<Spawned> {
  const server = await spawnServer(dataDir);
  cleanups.push(() => server.close());
  return server;
}

describe('the built CLI over stdio', () => {
  it('serves every tool end to end', async () => {
    const { client } = await start(tempDataDir());
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['forget', 'get_goal', 'get_memory', 'list_goals', 'memory_stats', 'record_outcome', 'remember', 'remember_goal', 'search_memory']);

    const fact = (await callOk(client, 'remember', { content: 'The team deploys on Tuesdays', kind: 'fact' })).stored[0];
    const turn = (await callOk(client, 'remember', { content: 'Dana: the deploy broke the login page', layer: 'episodic', kind: 'turn', occurred_at: '2025-01-02T03:04:05Z' })).stored[0];
    const goal = (await callOk(client, 'remember_goal', { title: 'Fix the login page', plan: [{ title: 'Reproduce' }, { title: 'Patch' }] })).goal;
    const step = (await callOk(client, 'remember_goal', { goal_id: goal.id, step_updates: [{ step_id: goal.steps[0].id, status: 'done' }] })).goal.steps[0];
    expect(step.status).toBe('done');
    const outcome = await callOk(client, 'record_outcome', { goal_id: goal.id, result: 'success', summary: 'Patched the session cookie', lessons: ['Check cookie flags after a deploy'] });
    expect(outcome.goal.status).toBe('achieved');

    const hits = (await callOk(client, 'search_memory', { query: 'deploy' })).hits.map((h: { id: string }) => h.id);
    expect(hits).toEqual(expect.arrayContaining([fact.id, turn.id, outcome.lesson_memory_ids[0]]));
    expect((await callOk(client, 'get_memory', { ids: [fact.id, turn.id] })).memories).toHaveLength(2);
    expect((await callOk(client, 'get_goal', { goal_id: goal.id })).goal.outcomes).toHaveLength(1);
    expect((await callOk(client, 'list_goals', { statuses: ['achieved'] })).goals.map((g: { id: string }) => g.id)).toEqual([goal.id]);
    expect((await callOk(client, 'forget', { ids: [fact.id] })).forgotten).toEqual([fact.id]);
    expect((await callOk(client, 'memory_stats')).memories_total).toBe(3);
    expect(await callError(client, 'remember', { content: '' })).toMatch(/content/);
  });

  it('keeps every memory, goal and audit row across a restart', async () => {
    const dataDir = tempDataDir();
    const first = await spawnServer(dataDir);
    const ids = (await callOk(first.client, 'remember', { memories: Array.from({ length: 50 }, (_, i) => ({ content: `persistent fact number ${i}` })) })).stored.map((m: { id: string }) => m.id);
    const goal = (await callOk(first.client, 'remember_goal', { title: 'Survive restarts' })).goal;
    await first.close();

    const second = await start(dataDir);
    expect((await callOk(second.client, 'get_memory', { ids: ids.slice(0, 10) })).memories).toHaveLength(10);
    expect((await callOk(second.client, 'search_memory', { query: 'persistent fact', mode: 'keyword', limit: 100 })).hits).toHaveLength(50);
    const byVector = (await callOk(second.client, 'search_memory', { query: 'persistent fact', mode: 'vector', limit: 100 })).hits.map((h: { id: string }) => h.id);
    expect(byVector).toEqual(expect.arrayContaining(ids));
    expect((await callOk(second.client, 'get_goal', { goal_id: goal.id })).goal.title).toBe('Survive restarts');
    // Two calls before the restart, four after.
    expect((await callOk(second.client, 'memory_stats')).audit_rows).toBe(6);
  });

  it('writes only protocol messages to stdout, answers a broken frame with a JSON-RPC error, and exits 0 when stdin closes', async () => {
    const child = spawnRaw(['--data-dir', tempDataDir(), '--log-level', 'debug']);
    cleanups.push(() => void child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const send = (message: unknown) => child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send('{this is not json');
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'remember', arguments: { content: 'raw frame memory' } } });
    // Requests run concurrently: search once the write is answered.
    await waitFor(() => stdout.includes('"id":2'));
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'raw frame' } } });
    await waitFor(() => stdout.includes('"id":3'));
    child.stdin.end();
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);

    const messages = stdout.trim().split('\n').map((line) => JSON.parse(line) as { id?: number; error?: unknown; result?: { isError?: boolean } });
    expect(messages.every((m) => (m as { jsonrpc?: string }).jsonrpc === '2.0')).toBe(true);
    expect(messages.some((m) => m.error !== undefined)).toBe(true);
    expect(messages.find((m) => m.id === 2)?.result?.isError).toBeFalsy();
    expect(JSON.stringify(messages.find((m) => m.id === 3))).toContain('raw frame memory');
    // Logs went to stderr, as JSON lines.
    expect(stderr).toContain('serving MCP over stdio');
    expect(stdout).not.toContain('serving MCP');
  });

  it('on SIGINT finishes the calls in flight and exits 0, keeping everything it acknowledged', async () => {
    const dataDir = tempDataDir();
    const child = spawnRaw(['--data-dir', dataDir]);
    cleanups.push(() => void child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await waitFor(() => stdout.includes('"id":0'));
    for (let id = 1; id <= 30; id++) {
      send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'remember', arguments: { memories: Array.from({ length: 20 }, (_, i) => ({ content: `shutdown ${id} ${i}` })) } } });
    }
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: number; result?: { isError?: boolean; structuredContent?: { count: number } } });
    const stored = answers.filter((a) => a.id > 0 && a.result && !a.result.isError).reduce((n, a) => n + (a.result?.structuredContent?.count ?? 0), 0);
    expect(stderr).toContain('shutting down');
    // Answers are results or clear refusals, never protocol errors.
    expect(answers.every((a) => a.result !== undefined)).toBe(true);

    // Whatever was acknowledged is there after a restart.
    const server = await start(dataDir);
    expect((await callOk(server.client, 'memory_stats')).memories_total).toBeGreaterThanOrEqual(stored);
  });

  it('exits 0 on SIGTERM', async () => {
    const child = spawnRaw(['--data-dir', tempDataDir()]);
    cleanups.push(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('serving MCP over stdio'));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
