import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
const ids: Record<string, string> = {};

async function search(args: Record<string, unknown>): Promise<string[]> {
  const { hits } = await callOk(linked.client, 'search_memory', args);
  return hits.map((h: { id: string }) => h.id);
}

beforeAll(async () => {
  linked = await linkedServer();
  const { stored } = await callOk(linked.client, 'remember', {
    memories: [
      { content: 'Alice prefers dark mode in her code editor', kind: 'preference', tags: ['ui', 'alice'] },
      { content: 'Alice went hiking in the Alps last May', layer: 'episodic', kind: 'event', occurred_at: '2024-05-12T09:00:00Z', tags: ['alice', 'travel'] },
      { content: 'Bob said the editor theme is too bright', layer: 'episodic', kind: 'turn', occurred_at: '2024-06-01T10:00:00Z', tags: ['bob', 'ui'] },
      { content: 'To rotate the API keys run the rotate script then restart the workers', layer: 'procedural', kind: 'howto', tags: ['ops'] },
      { content: 'Alice prefers tea over coffee', kind: 'preference', namespace: 'home', tags: ['alice'] },
    ],
  });
  ['darkMode', 'hiking', 'bright', 'rotate', 'tea'].forEach((name, i) => (ids[name] = stored[i].id));
  const goal = (await callOk(linked.client, 'remember_goal', { title: 'Redesign the editor theme', plan: [{ title: 'Pick a dark palette for the editor' }] })).goal;
  ids.goal = goal.id;
  ids.step = goal.steps[0].id;
  ids.linked = (await callOk(linked.client, 'remember', { content: 'Palette candidates: solarized, nord', goal_id: goal.id })).stored[0].id;
});
afterAll(async () => {
  await linked.close();
});

describe('search_memory', () => {
  it('ranks the exact keyword hit first and says why it matched', async () => {
    const { hits, mode, terms } = await callOk(linked.client, 'search_memory', { query: 'What does Alice prefer, dark mode?' });
    expect(mode).toBe('keyword');
    expect(terms).toEqual(['alice', 'prefer', 'dark', 'mode']);
    expect(hits[0].id).toBe(ids.darkMode);
    expect(hits[0].why.keyword_rank).toBe(1);
    expect(hits[0].why.matched_terms).toEqual(expect.arrayContaining(['alice', 'dark', 'mode']));
    expect(hits[0].score).toBeGreaterThan(hits[1]?.score ?? -Infinity);
  });

  it('searches only the default namespace unless told otherwise', async () => {
    expect(await search({ query: 'tea coffee' })).toEqual([]);
    expect(await search({ query: 'tea coffee', namespace: 'home' })).toEqual([ids.tea]);
    expect(await search({ query: 'tea coffee', namespace: '*' })).toEqual([ids.tea]);
  });

  it('filters by layer, kind and record type', async () => {
    expect(await search({ query: 'editor', layers: ['episodic'] })).toEqual([ids.bright]);
    expect(await search({ query: 'alice', kinds: ['event'] })).toEqual([ids.hiking]);
    expect(await search({ query: 'editor theme', types: ['goal'] })).toEqual([ids.goal]);
    expect(await search({ query: 'dark palette editor', types: ['step'] })).toEqual([ids.step]);
  });

  it('filters by tags, any or all', async () => {
    expect((await search({ query: 'editor alice bob', tags_any: ['bob', 'travel'] })).sort()).toEqual([ids.bright, ids.hiking].sort());
    expect(await search({ query: 'alice', tags_all: ['alice', 'ui'] })).toEqual([ids.darkMode]);
  });

  it('filters by goal: the goal, its steps and its linked memories', async () => {
    expect((await search({ query: 'palette editor theme', goal_id: ids.goal })).sort()).toEqual([ids.goal, ids.step, ids.linked].sort());
  });

  it('filters by a time range on occurred_at or created_at', async () => {
    expect(await search({ query: 'alice bob editor hiking', since: '2024-05-01', until: '2024-06-01' })).toEqual([ids.hiking]);
    expect((await search({ query: 'alice bob editor hiking', since: '2024-05-01', until: '2024-07-01' })).sort()).toEqual([ids.hiking, ids.bright].sort());
    expect(await search({ query: 'alice bob editor hiking', time_field: 'created_at', until: '2024-07-01' })).toEqual([]);
  });

  it('lists the newest records for an empty query, within the filters', async () => {
    const { hits, mode } = await callOk(linked.client, 'search_memory', { query: '', types: ['memory'], limit: 2 });
    expect(mode).toBe('recent');
    expect(hits.map((h: { id: string }) => h.id)).toEqual([ids.linked, ids.rotate]);
  });

  it('finds stemmed forms and trims snippets to the budget', async () => {
    const long = `${'filler words here. '.repeat(40)}The quarterly invoices were reconciled by Carol. ${'more filler text. '.repeat(40)}`;
    const id = (await callOk(linked.client, 'remember', { content: long })).stored[0].id;
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'reconciling invoice', snippet_chars: 80 });
    expect(hits[0].id).toBe(id);
    expect(hits[0].snippet.length).toBeLessThanOrEqual(82);
    expect(hits[0].snippet).toContain('reconciled');
  });

  it('honours the limit', async () => {
    expect(await search({ query: 'alice editor bob', limit: 1 })).toHaveLength(1);
  });
});

describe('search_memory with a selective filter over many matches', () => {
  it('still finds every match that passes the filter when better matches elsewhere fill the first page', async () => {
    const big = await linkedServer();
    try {
      for (let b = 0; b < 3; b++) {
        await callOk(big.client, 'remember', { memories: Array.from({ length: 100 }, (_, i) => ({ content: `apple apple orchard note ${b}-${i}`, namespace: 'busy' })) });
      }
      const rare = (await callOk(big.client, 'remember', { memories: [{ content: 'an apple and many other words here', namespace: 'quiet' }, { content: 'one apple in a long sentence about something else', namespace: 'quiet' }] })).stored.map((m: { id: string }) => m.id);
      const { hits } = await callOk(big.client, 'search_memory', { query: 'apple', mode: 'keyword', namespace: 'quiet', limit: 10 });
      expect(hits.map((h: { id: string }) => h.id).sort()).toEqual([...rare].sort());
      // A namespace alone is checked through the narrow scope index, other filters through the table: the same ranking either way.
      await callOk(big.client, 'forget', { ids: [rare[0]] });
      // Distinct lengths, so distinct scores: the order is fixed.
      await callOk(big.client, 'remember', { memories: Array.from({ length: 40 }, (_, i) => ({ content: `plum grove${' filler'.repeat(i)}`, namespace: 'ranked' })) });
      const scoped = await callOk(big.client, 'search_memory', { query: 'plum grove', mode: 'keyword', namespace: 'ranked', limit: 20 });
      const viaTable = await callOk(big.client, 'search_memory', { query: 'plum grove', mode: 'keyword', namespace: 'ranked', limit: 20, since: '2000-01-01T00:00:00Z' });
      expect(new Set(scoped.hits.map((h: { score: number }) => h.score)).size).toBe(20);
      expect(scoped.hits).toHaveLength(20);
      expect(scoped.hits.map((h: { id: string; score: number }) => [h.id, h.score])).toEqual(viaTable.hits.map((h: { id: string; score: number }) => [h.id, h.score]));
      expect((await callOk(big.client, 'search_memory', { query: 'apple', mode: 'keyword', namespace: 'quiet' })).hits.map((h: { id: string }) => h.id)).toEqual([rare[1]]);
    } finally {
      await big.close();
    }
  });
});

describe('search_memory in a namespace holding most of the store', () => {
  it('filters the best matches of a broad namespace, and still finds a match that only a narrower filter admits', async () => {
    // An exact-scan limit of 20: "main" (91 memories) is too big to list, "aside" (10) is not.
    const store = await linkedServer({ embedder: true, index: { exactScanLimit: 20 } });
    try {
      // "main" holds 90 % of the store, like the default namespace of a single user.
      await callOk(store.client, 'remember', { memories: Array.from({ length: 90 }, (_, i) => ({ content: `sailing log entry ${i} about wind and tide`, namespace: 'main' })) });
      const aside = (await callOk(store.client, 'remember', { memories: Array.from({ length: 10 }, (_, i) => ({ content: `sailing log entry ${i} about wind and tide`, namespace: 'aside' })) })).stored.map((m: { id: string }) => m.id);
      const tagged = (await callOk(store.client, 'remember', { content: 'a short note about wind', namespace: 'main', tags: ['rare'] })).stored[0].id;
      for (const mode of ['keyword', 'vector', 'hybrid']) {
        const { hits } = await callOk(store.client, 'search_memory', { query: 'sailing wind tide', namespace: 'main', mode, limit: 20 });
        expect(hits, mode).toHaveLength(20);
        expect(hits.every((h: { namespace: string }) => h.namespace === 'main'), mode).toBe(true);
        // The best matches of the whole store fill the first places from both namespaces; only main's are kept.
        const narrow = await callOk(store.client, 'search_memory', { query: 'sailing wind tide', namespace: 'main', mode, tags_any: ['rare'] });
        expect(narrow.hits.map((h: { id: string }) => h.id), mode).toEqual([tagged]);
      }
      const small = await callOk(store.client, 'search_memory', { query: 'sailing wind tide', namespace: 'aside', mode: 'vector', limit: 20 });
      expect(small.hits.map((h: { id: string }) => h.id).sort()).toEqual([...aside].sort());
    } finally {
      await store.close();
    }
  });
});
