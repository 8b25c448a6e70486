import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { assembleRuntime } from '../../src/runtime.js';
import { createServer } from '../../src/server.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { VectorIndex } from '../../src/vector/vector-index.js';
import { callOk } from '../helpers/calls.js';
import { HashEmbedder } from '../helpers/hash-embedder.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const logger = createLogger('silent');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A server whose vector index opens only when the test says so: what a start
 * over a large store looks like while its index is still being read.
 */
async function serverWithSlowIndex() {
  const temp = makeTempDir('pinak-loading-');
  const store = SqliteStore.open({ file: join(temp.dir, 'pinak.db'), busyTimeoutMs: 1000 });
  const embedder = new HashEmbedder();
  await store.registerModel({ key: embedder.model.key, id: embedder.model.id, dimension: embedder.model.dimension, fingerprint: embedder.model.fingerprint });
  let release!: (outcome: 'open' | Error) => void;
  const gate = new Promise<'open' | Error>((resolve) => (release = resolve));
  let stopSignal: AbortSignal | undefined;
  const runtime = assembleRuntime({
    store,
    logger,
    embedder,
    settings: { namespace: 'default', maxContentBytes: 32 * 1024, maxMetadataBytes: 16 * 1024 },
    fusion: { keywordWeight: 1, vectorWeight: 1, rrfK: 60 },
    vectorIndex: async (signal) => {
      stopSignal = signal;
      const outcome = await Promise.race([gate, new Promise<Error>((resolve) => signal.addEventListener('abort', () => resolve(new Error('stopped'))))]);
      if (outcome instanceof Error) throw outcome;
      return VectorIndex.open({
        dir: join(temp.dir, 'vectors'),
        modelKey: embedder.model.key,
        graph: { dimension: embedder.model.dimension, m: 16, efConstruction: 100, efSearch: 100 },
        log: store.vectorLog,
        logger,
        snapshotEveryChanges: 1_000_000,
        snapshotIntervalMs: 3_600_000,
        exactScanLimit: 20_000,
      });
    },
  });
  const { server } = createServer(runtime);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(clientSide);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await client.close();
    await server.close();
    await runtime.close();
    temp.cleanup();
  };
  cleanups.push(close);
  return { client, runtime, release, close, stopped: () => stopSignal?.aborted ?? false };
}

describe('a vector index that is still loading', () => {
  it('answers searches from the keyword index meanwhile, saying why, and takes every write', async () => {
    const s = await serverWithSlowIndex();
    await callOk(s.client, 'remember', { content: 'The lighthouse keeper repaints the lamp room every spring' });
    const early = await callOk(s.client, 'search_memory', { query: 'lighthouse lamp', mode: 'hybrid' });
    expect(early.mode).toBe('keyword');
    expect(early.note).toMatch(/vector index is still loading/);
    expect(early.hits).toHaveLength(1);
    const vectorOnly = await callOk(s.client, 'search_memory', { query: 'lighthouse lamp', mode: 'vector' });
    expect(vectorOnly.mode).toBe('keyword');
    const stats = await callOk(s.client, 'memory_stats');
    expect(stats.embedding).toMatchObject({ index_start: 'loading', vectors_indexed: 0, index_backlog: 1, embedded: 1 });

    s.release('open');
    await s.runtime.memory.vectors!.opened();
    await callOk(s.client, 'remember', { content: 'Harbour pilots board ships at the breakwater' });
    const later = await callOk(s.client, 'search_memory', { query: 'lighthouse lamp', mode: 'vector' });
    expect(later.mode).toBe('vector');
    expect(later.note).toBeUndefined();
    expect(later.hits[0].snippet).toMatch(/lighthouse/);
    expect((await callOk(s.client, 'memory_stats')).embedding).toMatchObject({ index_start: 'rebuild', vectors_indexed: 2 });
  });

  it('says so when the index could not be opened, and keyword search goes on', async () => {
    const s = await serverWithSlowIndex();
    await callOk(s.client, 'remember', { content: 'Tide tables are printed every January' });
    s.release(new Error('snapshot directory is not readable'));
    expect(await s.runtime.memory.vectors!.opened()).toBeNull();
    const result = await callOk(s.client, 'search_memory', { query: 'tide tables' });
    expect(result.mode).toBe('keyword');
    expect(result.note).toMatch(/could not be opened: snapshot directory is not readable/);
    expect(result.hits).toHaveLength(1);
    expect((await callOk(s.client, 'memory_stats')).embedding.index_start).toBe('failed');
  });

  it('tells the client: a search answered from keywords alone is a warning on its call, and how the index came up once it has', async () => {
    const s = await serverWithSlowIndex();
    const messages: Array<{ level: string; data: unknown }> = [];
    s.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push({ level: n.params.level, data: n.params.data }));
    await callOk(s.client, 'remember', { content: 'The lighthouse keeper repaints the lamp room every spring' });
    await callOk(s.client, 'search_memory', { query: 'lighthouse lamp' });
    expect(messages).toEqual([{ level: 'warning', data: expect.stringMatching(/^search_memory: degraded search: the vector index is still loading \(\d+ s since start\); these are keyword results$/) }]);
    // Keyword search was asked for: nothing is degraded.
    await callOk(s.client, 'search_memory', { query: 'lighthouse lamp', mode: 'keyword' });
    expect(messages).toHaveLength(1);
    await s.client.setLoggingLevel('error');
    await callOk(s.client, 'search_memory', { query: 'lighthouse lamp' });
    expect(messages).toHaveLength(1);

    // A client connected while the index loads hears how it came up (here: rebuilt, the store holding a vector), at its level.
    await s.client.setLoggingLevel('warning');
    s.release('open');
    await s.runtime.memory.vectors!.opened();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(messages.at(-1)).toEqual({ level: 'warning', data: 'the vector index was rebuilt from the database (1 vector; it had no snapshot): until its graph catches up, vector searches scan exactly and may be slower' });
    expect(s.runtime.notices.current().map((n) => n.kind)).toEqual(['vector-index']);
  });

  it('stops the load at shutdown instead of waiting for it', async () => {
    const s = await serverWithSlowIndex();
    await s.close();
    expect(s.stopped()).toBe(true);
  });
});
