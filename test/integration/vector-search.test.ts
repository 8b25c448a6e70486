import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, TEST_BACKEND, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
afterEach(async () => {
  await linked.close();
});

async function ids(args: Record<string, unknown>): Promise<string[]> {
  return (await callOk(linked.client, 'search_memory', args)).hits.map((h: { id: string }) => h.id);
}

describe('search_memory with a vector leg', () => {
  it('offers hybrid, keyword and vector modes and says which leg found each hit', async () => {
    linked = await linkedServer({ embedder: true });
    const [garden, taxes] = (await callOk(linked.client, 'remember', {
      memories: [{ content: 'Tomatoes need watering every morning in July' }, { content: 'The tax return is due in April' }],
    })).stored.map((m: { id: string }) => m.id);

    const hybrid = await callOk(linked.client, 'search_memory', { query: 'watering tomatoes' });
    expect(hybrid.mode).toBe('hybrid');
    expect(hybrid.hits[0].id).toBe(garden);
    expect(hybrid.hits[0].why).toMatchObject({ keyword_rank: 1, vector_rank: 1 });
    expect(hybrid.hits[0].why.vector_similarity).toBeGreaterThan(0.5);

    const vector = await callOk(linked.client, 'search_memory', { query: 'tomatoes', mode: 'vector' });
    expect(vector.mode).toBe('vector');
    expect(vector.hits[0]).toMatchObject({ id: garden, why: { keyword_rank: null, vector_rank: 1 } });
    expect(await ids({ query: 'tax return April', mode: 'keyword' })).toEqual([taxes]);
  });

  it('never returns forgotten or superseded memories from the vector leg', async () => {
    linked = await linkedServer({ embedder: true });
    const old = (await callOk(linked.client, 'remember', { content: 'Maria lives in Lisbon near the river' })).stored[0].id;
    const fix = (await callOk(linked.client, 'remember', { content: 'Maria lives in Porto near the river', supersedes: old })).stored[0].id;
    const gone = (await callOk(linked.client, 'remember', { content: 'Maria river boat trip' })).stored[0].id;
    await callOk(linked.client, 'forget', { ids: [gone] });
    const found = await ids({ query: 'Maria lives river', mode: 'vector', limit: 10 });
    expect(found).toEqual([fix]);
    // Forgetting the correction brings the old memory back, in the vector leg too.
    await callOk(linked.client, 'forget', { ids: [fix] });
    expect(await ids({ query: 'Maria lives river', mode: 'vector' })).toEqual([old]);
  });

  // SQLite's own files and local index: no PostgreSQL counterpart.
  it.skipIf(TEST_BACKEND === 'postgres')('returns k results for selective filters, by exact scan and by filtered graph walk', async () => {
    for (const exactScanLimit of [20_000, 0]) {
      linked = await linkedServer({ embedder: true, index: { exactScanLimit } });
      const memories = Array.from({ length: 100 }, (_, i) => ({ content: `note ${i} about apples and pears`, namespace: i % 20 === 0 ? 'rare' : 'common' }));
      await callOk(linked.client, 'remember', { memories });
      await linked.index!.settle();
      const rare = await callOk(linked.client, 'search_memory', { query: 'apples pears', mode: 'vector', namespace: 'rare', limit: 5 });
      expect(rare.hits).toHaveLength(5);
      expect(rare.hits.every((h: { namespace: string }) => h.namespace === 'rare')).toBe(true);
      const tagged = await callOk(linked.client, 'search_memory', { query: 'apples', mode: 'vector', namespace: '*', kinds: ['note'], limit: 7 });
      expect(tagged.hits).toHaveLength(7);
      await linked.close();
    }
    linked = await linkedServer();
  });

  it('re-embeds a goal when its title changes', async () => {
    linked = await linkedServer({ embedder: true });
    const goal = (await callOk(linked.client, 'remember_goal', { title: 'Plant the spring garden' })).goal;
    const similarity = async (query: string): Promise<number> => {
      const { hits } = await callOk(linked.client, 'search_memory', { query, mode: 'vector', types: ['goal'] });
      return hits.find((h: { id: string }) => h.id === goal.id)?.why.vector_similarity ?? 0;
    };
    expect(await similarity('spring garden')).toBeGreaterThan(0.5);
    await callOk(linked.client, 'remember_goal', { goal_id: goal.id, title: 'Renovate the kitchen cabinets' });
    expect(await similarity('spring garden')).toBeLessThan(0.3);
    expect(await similarity('kitchen cabinets')).toBeGreaterThan(0.5);
  });

  it('falls back to keyword results, and says so, when no embedder is loaded', async () => {
    linked = await linkedServer();
    const id = (await callOk(linked.client, 'remember', { content: 'keyword only memory' })).stored[0].id;
    const result = await callOk(linked.client, 'search_memory', { query: 'keyword memory', mode: 'vector' });
    expect(result).toMatchObject({ mode: 'keyword', note: expect.stringContaining('unavailable') });
    expect(result.hits.map((h: { id: string }) => h.id)).toEqual([id]);
  });
});
