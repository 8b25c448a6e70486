import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, TEST_BACKEND, type Linked } from '../helpers/in-memory-server.js';
import type { StoreFilters } from '../../src/store/store.js';
import { createVectorSearch } from '../../src/memory/vector-search.js';
import { createLogger } from '../../src/logging.js';
import { HashEmbedder } from '../helpers/hash-embedder.js';

/**
 * A query embedded once and compared two ways (QueryVector): with the whole
 * scope (nearest), or with given records only (similarities, which the
 * tie-break fusion uses when the keyword hits fill the limit). On SQLite the
 * in-memory index answers; on PostgreSQL (PGlite with pgvector) the database.
 */
let linked: Linked;
afterEach(async () => {
  await linked.close();
});

describe(`QueryVector on ${TEST_BACKEND}`, () => {
  it('gives the given records the similarities the neighbour search gives them, best first, and nothing for a record with no vector', async () => {
    linked = await linkedServer({ embedder: true });
    await callOk(linked.client, 'remember', {
      memories: ['Tomatoes need watering every morning in July', 'The tax return is due in April', 'Peppers and tomatoes grow in the greenhouse', 'The bus to town leaves at eight'].map((content) => ({ content })),
    });
    await callOk(linked.client, 'remember', { content: 'Tomatoes in another namespace', namespace: 'other' });
    const { vectors } = linked.runtime.memory;
    const filters: StoreFilters = { namespace: 'default', time_field: 'occurred_at', include_superseded: false };
    const docs = await linked.runtime.store.filterDocIds(filters);
    expect(docs).toHaveLength(4);
    const query = await vectors!.embedQuery('tomatoes watering', filters);
    const nearest = await query.nearest(10);
    const asked = [...docs].reverse();
    const found = await query.similarities([...asked, 987_654_321]);
    // Every given record that has a vector and shares something with the query, none other; the unknown id has no vector.
    expect(new Set(found.map((hit) => hit.doc_id))).toEqual(new Set(nearest.map((hit) => hit.doc_id)));
    for (const hit of found) expect(hit.similarity).toBeCloseTo(nearest.find((n) => n.doc_id === hit.doc_id)!.similarity, 5);
    for (let i = 1; i < found.length; i++) expect(found[i]!.similarity).toBeLessThanOrEqual(found[i - 1]!.similarity);
    // Only the records asked about: one of them, alone.
    const one = nearest[1]!.doc_id;
    expect((await query.similarities([one])).map((hit) => hit.doc_id)).toEqual([one]);
    expect(await query.similarities([])).toEqual([]);
  });

  // The local index only: while it loads, a confined search reads the vectors it needs from SQLite.
  it.skipIf(TEST_BACKEND === 'postgres')('while the index loads, a confined search reads the given records\' vectors from the store, with the same similarities', async () => {
    linked = await linkedServer({ embedder: true });
    await callOk(linked.client, 'remember', { memories: ['Tomatoes need watering every morning', 'Tomatoes and peppers in the greenhouse', 'The bus leaves at eight'].map((content) => ({ content, namespace: 'garden' })) });
    await callOk(linked.client, 'remember', { content: 'Tomatoes elsewhere', namespace: 'other' });
    const filters: StoreFilters = { namespace: 'garden', time_field: 'occurred_at', include_superseded: false, confined: true };
    const docs = await linked.runtime.store.filterDocIds(filters);
    const loaded = await (await linked.runtime.memory.vectors!.embedQuery('tomatoes watering', filters)).similarities(docs);
    // An index that never finishes loading: every vector comes from the store.
    const loading = createVectorSearch(new HashEmbedder(), new Promise(() => {}), linked.runtime.store, createLogger('silent'));
    expect(loading.state().state).toBe('loading');
    const fromStore = await (await loading.embedQuery('tomatoes watering', filters)).similarities(docs);
    expect(fromStore.length).toBeGreaterThan(0);
    expect(fromStore.map((hit) => hit.doc_id)).toEqual(loaded.map((hit) => hit.doc_id));
    fromStore.forEach((hit, i) => expect(hit.similarity).toBeCloseTo(loaded[i]!.similarity, 5));
    // An unconfined search does not answer from the store while the index loads: it says the index is not ready.
    await expect(loading.embedQuery('tomatoes', { ...filters, confined: false })).rejects.toThrow(/not ready/);
  });
});
