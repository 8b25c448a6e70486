import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { reembedMissing } from '../../src/memory/reembed.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { callOk } from '../helpers/calls.js';
import { HashEmbedder } from '../helpers/hash-embedder.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(dir: string, embedder?: HashEmbedder): Promise<Linked> {
  const linked = await linkedServer({ dir, ...(embedder ? { embedder } : {}) });
  cleanups.push(() => linked.close());
  return linked;
}

describe('changing the embedding model', () => {
  it('keeps vectors of different models apart and re-embeds every record for the new one', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const oldModel = new HashEmbedder(64, 'test/old-model');
    const first = await server(dir, oldModel);
    await callOk(first.client, 'remember', { memories: Array.from({ length: 30 }, (_, i) => ({ content: `fact ${i} about sailing boats` })) });
    await callOk(first.client, 'remember_goal', { title: 'Learn to sail', plan: [{ title: 'Book a sailing course' }] });
    await first.close();
    cleanups.pop();

    const newModel = new HashEmbedder(48, 'test/new-model');
    const second = await server(dir, newModel);
    // Nothing of the old model leaks into the new model's index: it starts empty, keyword search still finds everything.
    expect((await callOk(second.client, 'memory_stats')).embedding).toMatchObject({ model_id: 'test/new-model', records: 32, embedded: 0, vectors_indexed: 0 });
    expect((await callOk(second.client, 'search_memory', { query: 'sailing', mode: 'vector' })).hits).toEqual([]);
    expect((await callOk(second.client, 'search_memory', { query: 'sailing boats', limit: 50 })).hits.length).toBeGreaterThanOrEqual(30);

    const progress: number[] = [];
    const done = await reembedMissing(second.runtime.store, newModel, createLogger('silent'), { batch: 7, onProgress: (p) => progress.push(p.embedded) });
    expect(done).toBe(32);
    expect(progress.at(-1)).toBe(32);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const stats = (await callOk(second.client, 'memory_stats')).embedding;
    expect(stats).toMatchObject({ records: 32, embedded: 32, vectors_indexed: 32 });
    expect((await callOk(second.client, 'search_memory', { query: 'sailing course', mode: 'vector', types: ['step'] })).hits).toHaveLength(1);
    // Running it again finds nothing left to do.
    expect(await reembedMissing(second.runtime.store, newModel, createLogger('silent'), { batch: 7 })).toBe(0);
  });

  it('reads each batch from where the last one ended, never rescanning the records already done', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const plain = await server(dir);
    await callOk(plain.client, 'remember', { memories: Array.from({ length: 20 }, (_, i) => ({ content: `note ${i} on knots` })) });
    await plain.close();
    cleanups.pop();

    const model = new HashEmbedder(32, 'test/cursor-model');
    const linked = await server(dir, model);
    const store = linked.runtime.store;
    const everyDoc = (await store.docsWithoutVector(model.model.key, 100)).map((doc) => doc.doc_id);
    expect(everyDoc).toHaveLength(20);
    // The cursor is exclusive: only docs after it come back.
    expect((await store.docsWithoutVector(model.model.key, 3, everyDoc[4])).map((doc) => doc.doc_id)).toEqual(everyDoc.slice(5, 8));

    const cursors: Array<number | undefined> = [];
    const read = store.docsWithoutVector.bind(store);
    store.docsWithoutVector = (key, limit, after) => {
      cursors.push(after);
      return read(key, limit, after);
    };
    expect(await reembedMissing(store, model, createLogger('silent'), { batch: 8 })).toBe(20);
    expect(cursors).toEqual([0, everyDoc[7], everyDoc[15], everyDoc[19]]);
  });

  it('gives records stored while the embedder was failing a vector later', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const flaky = new HashEmbedder(64, 'test/flaky');
    const realEmbed = flaky.embed.bind(flaky);
    flaky.embed = async () => {
      throw new Error('worker crashed');
    };
    const linked = await server(dir, flaky);
    const id = (await callOk(linked.client, 'remember', { content: 'stored while embeddings were down' })).stored[0].id;
    expect((await callOk(linked.client, 'memory_stats')).embedding).toMatchObject({ records: 1, embedded: 0 });
    // Search still answers, from the keyword index, and says so: in hybrid and in vector mode.
    for (const mode of ['hybrid', 'vector']) {
      const during = await callOk(linked.client, 'search_memory', { query: 'embeddings down', mode });
      expect(during, mode).toMatchObject({ mode: 'keyword', note: expect.stringMatching(/vector search failed/) });
      expect(during.hits[0].id, mode).toBe(id);
    }

    flaky.embed = realEmbed;
    await reembedMissing(linked.runtime.store, flaky, createLogger('silent'), { batch: 10 });
    const byVector = await callOk(linked.client, 'search_memory', { query: 'embeddings down', mode: 'vector' });
    expect(byVector.hits[0].id).toBe(id);
  });

  it('records each model identity once', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const store = SqliteStore.open({ file: join(dir, 'pinak.db'), busyTimeoutMs: 1000 });
    cleanups.push(() => store.close());
    const model = { key: 'm@4#f', id: 'm', dimension: 4, fingerprint: 'f' };
    expect(await store.registerModel(model)).toBe(true);
    expect(await store.registerModel(model)).toBe(false);
  });
});
