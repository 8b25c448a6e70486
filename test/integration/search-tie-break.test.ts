import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';
import { runTrackRecordScenario } from '../../scripts/eval/outcomes-scenario.js';
import { DEFAULT_FUSION } from '../../src/memory/fusion-defaults.js';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

/**
 * Hybrid search with the bundled static model and its fusion (the vector leg
 * as a tie breaker), through the MCP tools: the model's similarity decides
 * between memories the keyword leg scores alike, never against a clear
 * keyword lead, and answers alone when no memory shares a word with the query.
 */
let embedder: TransformersEmbedder;
let linked: Linked;
const ids: Record<string, string> = {};

interface Hit {
  id: string;
  score: number;
  why: { keyword_rank: number | null; vector_rank: number | null; vector_similarity: number | null };
}

async function search(query: string, mode: 'hybrid' | 'keyword' | 'vector' = 'hybrid', namespace = 'default', limit = 10, client = linked.client): Promise<Hit[]> {
  const { hits, mode: served } = await callOk(client, 'search_memory', { query, mode, namespace, limit });
  expect(served).toBe(mode);
  return hits as Hit[];
}

beforeAll(async () => {
  const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
  embedder = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 1, maxBatch: 16 });
  linked = await linkedServer({ embedder, fusion: DEFAULT_FUSION.static });
  const filler = [
    'The train to the coast leaves at nine and takes two hours',
    'Jon repainted the kitchen a pale shade of green',
    'The library closes early on public holidays',
    'A new bakery opened on the corner of the high street',
    'The car needs new tyres before the winter',
    'Ravi is learning to cook curries from his grandmother',
  ].map((content) => ({ content }));
  const memories = {
    football: 'Maria plays football every Sunday',
    piano: 'Maria plays piano every Sunday',
    quartet: 'Maria plays the violin in a string quartet with friends',
    garden: 'Tomatoes and peppers grow well in the raised beds behind the house',
  };
  const { stored } = await callOk(linked.client, 'remember', { memories: [...Object.values(memories).map((content) => ({ content })), ...filler] });
  Object.keys(memories).forEach((name, i) => (ids[name] = stored[i].id));
  // The same tie stored in the other order, in a namespace of its own.
  const swapped = await callOk(linked.client, 'remember', { memories: [memories.piano, memories.football].map((content) => ({ content, namespace: 'swapped' })).concat(filler.map((m) => ({ ...m, namespace: 'swapped' }))) });
  ids.swappedPiano = swapped.stored[0].id;
  ids.swappedFootball = swapped.stored[1].id;
}, 120_000);
afterAll(async () => {
  await linked?.close();
  await embedder?.close();
});

describe('hybrid search with the bundled model: the vector leg breaks ties', () => {
  it('between memories the keyword leg scores alike, the one closer in meaning comes first', async () => {
    const query = 'What music does Maria play on Sunday?';
    // Both hold "maria", "play" and "sunday", neither "music", and are as long: the keyword leg cannot tell them apart.
    const keyword = [...(await search(query, 'keyword')).slice(0, 2), ...(await search(query, 'keyword', 'swapped')).slice(0, 2)];
    expect(keyword[0]!.score).toBe(keyword[1]!.score);
    expect(keyword[2]!.score).toBe(keyword[3]!.score);
    expect(keyword[0]!.score).toBeGreaterThan(0);
    // In one of the two stores at least, the memory about sport comes first by keyword alone.
    expect(keyword[0]!.id === ids.football || keyword[2]!.id === ids.swappedFootball).toBe(true);
    for (const [namespace, piano, football] of [['default', ids.piano, ids.football], ['swapped', ids.swappedPiano, ids.swappedFootball]] as const) {
      const hybrid = await search(query, 'hybrid', namespace);
      expect(hybrid.slice(0, 2).map((hit) => hit.id)).toEqual([piano, football]);
      expect(hybrid[0]!.why.vector_rank).toBe(1);
      expect(hybrid[0]!.why.vector_similarity).toBeGreaterThan(hybrid[1]!.why.vector_similarity!);
      expect(hybrid[0]!.score).toBeGreaterThan(hybrid[1]!.score);
    }
  });

  it('when the keyword hits fill the limit, settles the near tie by the similarities of those hits alone, with no neighbour search (no vector rank)', async () => {
    const query = 'What music does Maria play on Sunday?';
    for (const [namespace, piano, football] of [['default', ids.piano, ids.football], ['swapped', ids.swappedPiano, ids.swappedFootball]] as const) {
      const keyword = await search(query, 'keyword', namespace, 2);
      expect(keyword).toHaveLength(2);
      expect(keyword[0]!.score).toBe(keyword[1]!.score);
      const hybrid = await search(query, 'hybrid', namespace, 2);
      expect(hybrid.map((hit) => hit.id)).toEqual([piano, football]);
      for (const hit of hybrid) {
        expect(hit.why.vector_rank).toBeNull();
        expect(hit.why.vector_similarity).toBeGreaterThan(0);
      }
      expect(hybrid[0]!.why.vector_similarity).toBeGreaterThan(hybrid[1]!.why.vector_similarity!);
      // The similarities are the ones the neighbour search measures.
      const vector = await search(query, 'vector', namespace, 10);
      for (const hit of hybrid) expect(hit.why.vector_similarity).toBeCloseTo(vector.find((v) => v.id === hit.id)!.why.vector_similarity!, 3);
    }
  });

  it('a search confined to one namespace settles the tie alike, from its own records', async () => {
    const reader = await linked.clientAs({ id: 'swapped-reader', tenant: 'local', role: 'reader', namespaces: ['swapped'], remoteAddress: null });
    const hybrid = await search('What music does Maria play on Sunday?', 'hybrid', 'swapped', 2, reader);
    expect(hybrid.map((hit) => hit.id)).toEqual([ids.swappedPiano, ids.swappedFootball]);
    expect(hybrid.every((hit) => hit.why.vector_rank === null && hit.why.vector_similarity! > 0)).toBe(true);
  });

  it('with fewer keyword hits than the limit, the neighbour search runs and memories only it found fill the rest', async () => {
    const query = 'Maria music';
    const keyword = await search(query, 'keyword');
    expect(keyword.length).toBeGreaterThan(0);
    expect(keyword.length).toBeLessThan(10);
    const hybrid = await search(query);
    expect(hybrid.length).toBeGreaterThan(keyword.length);
    expect(new Set(hybrid.slice(0, keyword.length).map((hit) => hit.id))).toEqual(new Set(keyword.map((hit) => hit.id)));
    const rest = hybrid.slice(keyword.length);
    for (const hit of rest) expect(hit.why).toMatchObject({ keyword_rank: null, vector_rank: expect.any(Number) });
    expect(hybrid.some((hit) => hit.why.keyword_rank !== null && hit.why.vector_rank !== null)).toBe(true);
  });

  it('never against a clear keyword lead', async () => {
    const query = 'Who does Maria play the violin with?';
    const vector = await search(query, 'vector');
    // The vector leg prefers another memory; only the quartet holds "violin" and leads the keyword leg by far.
    expect(vector[0]!.id).not.toBe(ids.quartet);
    const hybrid = await search(query);
    expect(hybrid[0]!.id).toBe(ids.quartet);
    expect(hybrid[0]!.why.keyword_rank).toBe(1);
  });

  it('answers from the vector leg alone when no memory shares a word with the query, scores falling in order', async () => {
    const hybrid = await search('vegetables harvest');
    expect(hybrid[0]!.id).toBe(ids.garden);
    expect(hybrid[0]!.why).toMatchObject({ keyword_rank: null, vector_rank: 1 });
    for (let i = 1; i < hybrid.length; i++) expect(hybrid[i]!.score).toBeLessThanOrEqual(hybrid[i - 1]!.score);
  });

  it('a lesson\'s track record still turns a near tie, as with rank fusion (hits score 1 / (k + place))', async () => {
    const agent = (id: string) => linked.clientAs({ id, tenant: 'local', role: 'writer', namespaces: null, remoteAddress: null });
    const figures = await runTrackRecordScenario({ reader: linked.client, succeeding: await agent('agent-succeeding'), failing: await agent('agent-failing') });
    expect(figures.before).toEqual({ followed: 2, avoided: 1 });
    expect(figures.after).toEqual({ followed: 1, avoided: 2 });
  });
});
