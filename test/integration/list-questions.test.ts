import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { LIST_BREADTH, spreadOverThreads } from '../../src/memory/list-questions.js';
import type { KeywordHit } from '../../src/store/store.js';

// Two conversations: in the first Ana talks about one painting at length, in the second she mentions another once.
const FIRST = [
  ['Ana', 'I painted the lake at sunrise, I painted it twice this spring'],
  ['Ben', 'The lake painting? The one with the orange sky?'],
  ['Ana', 'Yes, I painted the sky orange and painted the water darker'],
  ['Ben', 'You should frame it'],
  ['Ana', 'I painted a frame for it too, painted gold'],
  ['Ben', 'Gold suits it'],
  ['Ana', 'I painted over one corner of the lake painting again'],
];
const SECOND = [
  ['Ben', 'How was the weekend?'],
  ['Ana', 'Quiet. I painted a fox for my nephew'],
  ['Ben', 'He will love it'],
];

let linked: Linked;
const ids: Record<string, string[]> = {};

beforeAll(async () => {
  linked = await linkedServer();
  for (const [thread, turns, day] of [['s1', FIRST, '2024-05-04'], ['s2', SECOND, '2024-06-08']] as const) {
    const memories = turns.map(([speaker, text], i) => ({ content: `${speaker}: ${text}`, layer: 'episodic', kind: 'turn', thread_id: thread, position: i + 1, occurred_at: `${day}T10:0${i}:00Z`, metadata: { speaker } }));
    ids[thread] = (await callOk(linked.client, 'remember', { memories })).stored.map((m: { id: string }) => m.id);
  }
});
afterAll(async () => {
  await linked.close();
});

const top = async (query: string, limit: number): Promise<string[]> => (await callOk(linked.client, 'search_memory', { query, limit })).hits.map((hit: { id: string }) => hit.id);

describe('questions asking for a list', () => {
  it('find an item told once in another conversation, which the same words asked about one thing leave below the first conversation', async () => {
    const fox = ids.s2![1]!;
    // "What did Ana paint?" asks about one thing: the conversation that talks most about painting fills the top.
    expect(await top('What did Ana paint?', 3)).not.toContain(fox);
    // "What has Ana painted?" asks for a list: after two hits of the first conversation, the second one's turn comes in.
    const list = await top('What has Ana painted?', 3);
    expect(list).toContain(fox);
    expect(list.filter((id) => ids.s1!.includes(id))).toHaveLength(2);
  });
});

describe('spreadOverThreads', () => {
  it('keeps the first two hits of a thread, damps each further one, and leaves memories outside threads alone', async () => {
    const { store } = linked.runtime;
    const loose = (await callOk(linked.client, 'remember', { content: 'Ana painted a mural at school' })).stored[0].id as string;
    const filters = { namespace: null, time_field: 'occurred_at', include_superseded: false } as const;
    const found = await store.searchKeyword({ terms: ['painted'], filters, limit: 50 });
    const views = await store.describeDocs(found.map((hit) => hit.doc_id));
    const docOf = new Map(views.map((view) => [view.entity_id, view.doc_id]));
    const doc = (id: string): number => docOf.get(id)!;
    const hits: KeywordHit[] = [
      { doc_id: doc(ids.s1![0]!), score: 10 },
      { doc_id: doc(ids.s1![2]!), score: 9 },
      { doc_id: doc(ids.s1![4]!), score: 8 },
      { doc_id: doc(ids.s1![6]!), score: 7 },
      { doc_id: doc(loose), score: 6.5 },
      { doc_id: doc(ids.s2![1]!), score: 6.45 },
    ];
    const spread = await spreadOverThreads(store, hits);
    const byDoc = new Map(spread.map((hit) => [hit.doc_id, hit.score]));
    expect(byDoc.get(doc(ids.s1![0]!))).toBe(10);
    expect(byDoc.get(doc(ids.s1![2]!))).toBe(9);
    expect(byDoc.get(doc(ids.s1![4]!))).toBeCloseTo(8 * LIST_BREADTH.damp);
    expect(byDoc.get(doc(ids.s1![6]!))).toBeCloseTo(7 * LIST_BREADTH.damp ** 2);
    expect(byDoc.get(doc(loose))).toBe(6.5);
    expect(byDoc.get(doc(ids.s2![1]!))).toBe(6.45);
    // The other conversation's turn passes the first one's third (8 × 0.8 = 6.4).
    expect(spread.map((hit) => hit.doc_id)).toEqual([ids.s1![0]!, ids.s1![2]!, loose, ids.s2![1]!, ids.s1![4]!, ids.s1![6]!].map(doc));
    // Below the depth reordered, hits keep their place.
    const deep = await spreadOverThreads(store, hits, { ...LIST_BREADTH, depth: 3 });
    expect(deep.map((hit) => hit.score)).toEqual([10, 9, 8 * LIST_BREADTH.damp, 7, 6.5, 6.45]);
  });
});
