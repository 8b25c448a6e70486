import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/migrations/index.js';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, TEST_BACKEND, type Linked } from '../helpers/in-memory-server.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/schema-versions.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer({ clientName: 'agent-x' });
});
afterEach(async () => {
  await linked.close();
});

describe('remember and get_memory', () => {
  it('stores a memory with every field and returns it whole', async () => {
    const { stored } = await callOk(linked.client, 'remember', {
      content: 'Alice prefers dark mode in every editor.',
      layer: 'semantic',
      kind: 'preference',
      tags: ['ui', 'alice', 'ui'],
      metadata: { confidence: 0.9 },
      importance: 0.8,
      occurred_at: '2025-05-08',
    });
    expect(stored).toHaveLength(1);
    expect(stored[0].id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const { memories, missing } = await callOk(linked.client, 'get_memory', { id: stored[0].id });
    expect(missing).toEqual([]);
    expect(memories[0]).toMatchObject({
      content: 'Alice prefers dark mode in every editor.',
      layer: 'semantic',
      kind: 'preference',
      tags: ['ui', 'alice'],
      metadata: { confidence: 0.9 },
      importance: 0.8,
      namespace: 'default',
      source: 'agent-x',
      occurred_at: '2025-05-08T00:00:00.000Z',
      supersedes: null,
      superseded_by: null,
    });
  });

  it('stores a batch atomically and keeps its order', async () => {
    const memories = Array.from({ length: 100 }, (_, i) => ({ content: `turn number ${i}`, layer: 'episodic', kind: 'turn' }));
    const { stored, count } = await callOk(linked.client, 'remember', { memories });
    expect(count).toBe(100);
    expect(stored.map((m: { id: string }) => m.id)).toEqual([...stored.map((m: { id: string }) => m.id)].sort());
    const stats = await callOk(linked.client, 'memory_stats');
    expect(stats.by_layer).toEqual({ episodic: 100 });
  });

  it('returns found memories and lists unknown ids as missing', async () => {
    const { stored } = await callOk(linked.client, 'remember', { content: 'one fact' });
    const result = await callOk(linked.client, 'get_memory', { ids: [stored[0].id, '01JD3Z6Q6H8W1V8N2X4C5B7E9F'] });
    expect(result.memories).toHaveLength(1);
    expect(result.missing).toEqual(['01JD3Z6Q6H8W1V8N2X4C5B7E9F']);
    expect(await callError(linked.client, 'get_memory', { id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' })).toMatch(/not found|no memory/);
  });
});

describe('supersedes', () => {
  it('hides the corrected memory from search unless asked for', async () => {
    const old = (await callOk(linked.client, 'remember', { content: 'The staging server runs on port 8080' })).stored[0];
    const fix = (await callOk(linked.client, 'remember', { content: 'The staging server runs on port 9090', supersedes: old.id })).stored[0];
    const hits = (await callOk(linked.client, 'search_memory', { query: 'staging server port' })).hits;
    expect(hits.map((h: { id: string }) => h.id)).toEqual([fix.id]);
    const all = (await callOk(linked.client, 'search_memory', { query: 'staging server port', include_superseded: true })).hits;
    expect(all.map((h: { id: string }) => h.id).sort()).toEqual([old.id, fix.id].sort());
    expect(all.find((h: { id: string }) => h.id === old.id).superseded).toBe(true);
    const { memories } = await callOk(linked.client, 'get_memory', { id: old.id });
    expect(memories[0].superseded_by).toBe(fix.id);
  });

  it('brings the old memory back when the correction is forgotten', async () => {
    const old = (await callOk(linked.client, 'remember', { content: 'Bob lives in Lisbon' })).stored[0];
    const fix = (await callOk(linked.client, 'remember', { content: 'Bob lives in Porto', supersedes: old.id })).stored[0];
    await callOk(linked.client, 'forget', { ids: [fix.id] });
    const hits = (await callOk(linked.client, 'search_memory', { query: 'Bob lives' })).hits;
    expect(hits.map((h: { id: string }) => h.id)).toEqual([old.id]);
  });
});

describe('forget', () => {
  it('removes memories from search and get_memory, and reports unknown ids', async () => {
    const { stored } = await callOk(linked.client, 'remember', {
      memories: [{ content: 'secret address is 12 Elm Street' }, { content: 'favourite colour is teal' }],
    });
    const result = await callOk(linked.client, 'forget', { ids: [stored[0].id, '01JD3Z6Q6H8W1V8N2X4C5B7E9F'] });
    expect(result).toEqual({ forgotten: [stored[0].id], missing: ['01JD3Z6Q6H8W1V8N2X4C5B7E9F'] });
    expect((await callOk(linked.client, 'search_memory', { query: 'Elm Street address' })).hits).toEqual([]);
    expect(await callError(linked.client, 'get_memory', { id: stored[0].id })).toMatch(/no memory/);
    expect(await callOk(linked.client, 'forget', { ids: [stored[0].id] })).toEqual({ forgotten: [], missing: [stored[0].id] });
    expect((await callOk(linked.client, 'memory_stats')).memories_total).toBe(1);
  });
});

describe('memory_stats', () => {
  it('counts by layer, kind and namespace', async () => {
    await callOk(linked.client, 'remember', {
      memories: [
        { content: 'a', layer: 'semantic', kind: 'fact' },
        { content: 'b', layer: 'episodic', kind: 'turn', namespace: 'chat' },
        { content: 'c', layer: 'procedural', kind: 'howto' },
      ],
    });
    const stats = await callOk(linked.client, 'memory_stats');
    expect(stats).toMatchObject({
      memories_total: 3,
      by_layer: { semantic: 1, episodic: 1, procedural: 1 },
      by_kind: { fact: 1, turn: 1, howto: 1 },
      by_namespace: { default: 2, chat: 1 },
      schema_version: (TEST_BACKEND === 'postgres' ? PG_MIGRATIONS : MIGRATIONS).at(-1)!.version,
      default_namespace: 'default',
    });
    expect(stats.database_bytes).toBeGreaterThan(0);
  });
});
