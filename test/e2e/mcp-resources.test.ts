import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk, rpcError } from '../helpers/calls.js';
import { auditOf, useHttpHarness } from '../helpers/http-harness.js';
import { spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Every page of resources/list, following nextCursor; the URIs in the order listed. */
async function listAll(client: Client): Promise<{ uris: string[]; pages: number }> {
  const uris: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await client.listResources(cursor === undefined ? {} : { cursor });
    pages += 1;
    for (const resource of page.resources) {
      expect(resource.name).toBeTruthy();
      uris.push(resource.uri);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages < 20);
  return { uris, pages };
}

/** The text of a resource's one body. */
const readText = async (client: Client, params: { uri: string }): Promise<string> => ((await client.readResource(params)).contents[0] as { text: string }).text;

describe('MCP resources over stdio', () => {
  it('lists every goal and memory exactly once across pages, reads each kind, trims long text, links search hits, and audits every read', async () => {
    const temp = makeTempDir('pinak-resources-');
    const server = await spawnServer(temp.dir, ['--embed-model', 'none']);
    try {
      const { client } = server;
      const batch = (from: number) => Array.from({ length: 60 }, (_, i) => ({ content: `note ${from + i} about the billing export`, tags: ['billing'] }));
      const stored = [...(await callOk(client, 'remember', { memories: batch(0) })).stored, ...(await callOk(client, 'remember', { memories: batch(60) })).stored] as Array<{ id: string }>;
      const long = await callOk(client, 'remember', { content: `${'x'.repeat(20_000)} tail-marker`, metadata: { ticket: 'BILL-1' } });
      const goal = await callOk(client, 'remember_goal', { title: 'Ship the billing export', plan: [{ title: 'Write the CSV writer' }, { title: 'Add the endpoint' }] });
      const goalId = goal.goal.id as string;
      await callOk(client, 'record_outcome', { goal_id: goalId, result: 'partial', summary: 'The writer works; the endpoint times out.', lessons: ['Stream large exports instead of buffering them.'] });

      // 121 memories stored, plus the outcome's 2 (summary and lesson): the newest 100 are listed, with the 3 fixed resources and the goal.
      const { uris, pages } = await listAll(client);
      expect(pages).toBe(3);
      expect(new Set(uris).size).toBe(uris.length);
      expect(uris.slice(0, 4)).toEqual(['pinak://goals/active', 'pinak://recent', 'pinak://stats', `pinak://goal/${goalId}`]);
      const memoryUris = uris.filter((u) => u.startsWith('pinak://memory/'));
      expect(memoryUris).toHaveLength(100);
      expect(memoryUris).toContain(`pinak://memory/${long.stored[0].id}`);
      expect(memoryUris).toEqual([...memoryUris].sort().reverse());
      // The oldest fall outside the bounded listing, but read by URI all the same.
      expect(memoryUris).not.toContain(`pinak://memory/${stored[0]!.id}`);
      const oldest = await client.readResource({ uri: `pinak://memory/${stored[0]!.id}` });
      expect(oldest.contents[0]).toMatchObject({ uri: `pinak://memory/${stored[0]!.id}`, mimeType: 'text/markdown' });
      expect((oldest.contents[0] as { text: string }).text).toContain('note 0 about the billing export');
      expect((oldest.contents[0] as { text: string }).text).toContain('tags: billing');

      const longBody = await readText(client, { uri: `pinak://memory/${long.stored[0].id}` });
      expect(longBody.length).toBeLessThan(9_000);
      expect(longBody).toContain('trimmed: 8,000 of 20,012 characters shown; call get_memory for the whole text');
      expect(longBody).not.toContain('tail-marker');
      expect(longBody).toContain('"ticket":"BILL-1"');

      const goalBody = await readText(client, { uri: `pinak://goal/${goalId}` });
      expect(goalBody).toContain('# goal');
      expect(goalBody).toMatch(/1\. \[pending\] Write the CSV writer/);
      expect(goalBody).toContain('partial');
      expect(goalBody).toContain('lesson: Stream large exports instead of buffering them.');

      expect(await readText(client, { uri: 'pinak://goals/active' })).toContain(`pinak://goal/${goalId}`);
      const recent = await readText(client, { uri: 'pinak://recent' });
      expect(recent.split('\n').filter((line) => line.startsWith('- pinak://memory/'))).toHaveLength(20);
      const stats = (await client.readResource({ uri: 'pinak://stats' })).contents[0]!;
      expect(stats.mimeType).toBe('application/json');
      expect(JSON.parse((stats as { text: string }).text)).toMatchObject({ memories_total: 123, goals_by_status: { active: 1 } });

      // Writes between pages: the cursor names a place, not an offset, so nothing comes twice.
      const first = await client.listResources();
      await callOk(client, 'remember', { memories: batch(200).slice(0, 5) });
      const second = await client.listResources({ cursor: first.nextCursor! });
      const third = second.nextCursor === undefined ? { resources: [] } : await client.listResources({ cursor: second.nextCursor });
      const paged = [...first.resources, ...second.resources, ...third.resources].map((r) => r.uri);
      expect(new Set(paged).size).toBe(paged.length);
      expect(paged.slice(0, first.resources.length)).toEqual(uris.slice(0, first.resources.length));

      const templates = await client.listResourceTemplates();
      expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toEqual(['pinak://goal/{id}', 'pinak://memory/{id}']);

      // Bad input: clear JSON-RPC errors.
      expect(await rpcError(client.readResource({ uri: 'https://example.com/x' }))).toMatchObject({ code: -32602, message: expect.stringMatching(/unknown resource URI "https:\/\/example.com\/x": this server serves pinak:\/\/goals\/active/) });
      expect(await rpcError(client.readResource({ uri: 'pinak://memory/01JD3Z6Q6H8W1V8N2X4C5B7E9F' }))).toMatchObject({ code: -32002, message: expect.stringMatching(/no memory with id 01JD3Z6Q6H8W1V8N2X4C5B7E9F/) });
      expect(await rpcError(client.listResources({ cursor: 'not-a-cursor' }))).toMatchObject({ code: -32602, message: expect.stringMatching(/invalid cursor/) });
      expect(await rpcError(client.listResources({ cursor: Buffer.from('{"v":1,"s":9,"i":"x"}').toString('base64url') }))).toMatchObject({ code: -32602 });

      // search_memory: one resource_link per hit after the text, structuredContent as before.
      const search = await client.callTool({ name: 'search_memory', arguments: { query: 'billing export', limit: 5 } });
      const content = search.content as Array<{ type: string; uri?: string }>;
      const hits = (search.structuredContent as { hits: Array<{ id: string; type: string; goal_id: string | null }> }).hits;
      expect(content[0]!.type).toBe('text');
      const links = content.slice(1);
      expect(links.every((c) => c.type === 'resource_link')).toBe(true);
      const expected = [...new Set(hits.map((h) => (h.type === 'memory' ? `pinak://memory/${h.id}` : `pinak://goal/${h.type === 'goal' ? h.id : h.goal_id}`)))];
      expect(links.map((c) => c.uri)).toEqual(expected);
      expect(links.length).toBeGreaterThan(0);
      for (const link of links.slice(0, 2)) expect((await client.readResource({ uri: link.uri! })).contents).toHaveLength(1);
      // The structured answer is the tool's output schema's, as before (a note: vector search is off here).
      expect(Object.keys(search.structuredContent!).sort()).toEqual(['hits', 'mode', 'note', 'terms']);

      await server.close();
      const rows = auditOf(temp.dir);
      const reads = rows.filter((r) => r.tool === 'resources/read');
      expect(reads.length).toBeGreaterThanOrEqual(9);
      expect(reads.filter((r) => r.status === 'ok').every((r) => r.duration_ms >= 0 && r.principal_id === 'local')).toBe(true);
      expect(reads.find((r) => r.ids_returned.includes(goalId))).toMatchObject({ status: 'ok', namespace: 'default' });
      expect(reads.filter((r) => r.error_code === 'not_found')).toHaveLength(1);
      expect(reads.filter((r) => r.status === 'invalid')).toHaveLength(1);
      const lists = rows.filter((r) => r.tool === 'resources/list').map((r) => r.status);
      expect(lists.filter((s) => s === 'invalid')).toHaveLength(2);
      expect(lists.slice(-2)).toEqual(['invalid', 'invalid']);
    } finally {
      await server.close().catch(() => {});
      temp.cleanup();
    }
  }, 60_000);
});

describe('MCP resources over HTTP with keys', () => {
  const harness = useHttpHarness('pinak-resources-http-', { args: ['--embed-model', 'none'] });

  it('a reader confined to one namespace lists and reads only its records; another namespace\'s look like records that do not exist', async () => {
    const dir = harness.tempDataDir();
    const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader', '--namespaces', 'alpha']);
    const admin = createKey(dir, ['--tenant', 'acme', '--role', 'admin']);
    const server = await harness.start(dir, ['--auth', 'keys']);
    const { client: write } = await harness.connect(keyedClient(server.origin, writer.key));
    const alpha = (await callOk(write, 'remember', { content: 'alpha knows the billing export', namespace: 'alpha' })).stored[0].id as string;
    const beta = (await callOk(write, 'remember', { content: 'beta knows the billing export', namespace: 'beta' })).stored[0].id as string;
    const betaGoal = (await callOk(write, 'remember_goal', { title: 'Beta goal', namespace: 'beta' })).goal.id as string;
    const alphaGoal = (await callOk(write, 'remember_goal', { title: 'Alpha goal', namespace: 'alpha' })).goal.id as string;

    const { client: read } = await harness.connect(keyedClient(server.origin, reader.key, 'confined-reader'));
    const listed = (await listAll(read)).uris;
    // No store-wide stats for a confined key.
    expect(listed).toEqual(['pinak://goals/active', 'pinak://recent', `pinak://goal/${alphaGoal}`, `pinak://memory/${alpha}`]);
    expect(await readText(read, { uri: `pinak://memory/${alpha}` })).toContain('alpha knows');
    const foreign = await rpcError(read.readResource({ uri: `pinak://memory/${beta}` }));
    const missing = await rpcError(read.readResource({ uri: 'pinak://memory/01JD3Z6Q6H8W1V8N2X4C5B7E9F' }));
    expect(foreign).toEqual({ code: -32002, message: missing.message.replace('01JD3Z6Q6H8W1V8N2X4C5B7E9F', beta) });
    const foreignGoal = await rpcError(read.readResource({ uri: `pinak://goal/${betaGoal}` }));
    expect(foreignGoal.code).toBe(-32002);
    expect(foreignGoal.message).toMatch(/not found/);
    expect(await rpcError(read.readResource({ uri: 'pinak://stats' }))).toMatchObject({ code: -32600, message: expect.stringMatching(/memory_stats reports on every namespace/) });
    const recent = await readText(read, { uri: 'pinak://recent' });
    expect(recent).toContain(alpha);
    expect(recent).not.toContain(beta);
    const search = await read.callTool({ name: 'search_memory', arguments: { query: 'billing export' } });
    expect((search.content as Array<{ uri?: string }>).slice(1).map((c) => c.uri)).toEqual([`pinak://memory/${alpha}`]);

    // An unconfined key of the tenant sees both namespaces, and the stats.
    const { client: all } = await harness.connect(keyedClient(server.origin, admin.key));
    const every = (await listAll(all)).uris;
    expect(every).toEqual(expect.arrayContaining(['pinak://stats', `pinak://memory/${alpha}`, `pinak://memory/${beta}`, `pinak://goal/${betaGoal}`, `pinak://goal/${alphaGoal}`]));

    const rows = auditOf(dir, 'acme').filter((r) => r.principal_id === reader.id && r.tool === 'resources/read');
    expect(rows.map((r) => r.error_code)).toEqual([null, 'not_found', 'not_found', 'not_found', 'forbidden', null]);
    expect(rows[0]).toMatchObject({ status: 'ok', ids_returned: [alpha], tenant: 'acme', remote_address: expect.stringMatching(/127\.0\.0\.1/) });
  }, 60_000);
});
