import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { checkLabel, efForSize, HnswGraph } from '../../src/vector/hnsw-graph.js';
import { writeSnapshot } from '../../src/vector/snapshot-files.js';
import { VectorIndex } from '../../src/vector/vector-index.js';
import { HashEmbedder } from '../helpers/hash-embedder.js';
import { numberedText, storeNumbered } from '../helpers/numbered-memories.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const embedder = new HashEmbedder(64);
const logger = createLogger('silent');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const { dir, cleanup } = makeTempDir('pinak-vec-');
  const store = SqliteStore.open({ file: join(dir, 'pinak.db'), busyTimeoutMs: 1000 });
  cleanups.push(cleanup, () => store.close());
  const vectorsDir = join(dir, 'vectors');
  const options = (modelKey = embedder.model.key) => ({
    dir: vectorsDir,
    modelKey,
    graph: { dimension: 64, m: 16, efConstruction: 100, efSearch: 100 },
    log: store.vectorLog,
    logger,
    snapshotEveryChanges: 1_000_000,
    snapshotIntervalMs: 3_600_000,
    exactScanLimit: 0,
  });
  const open = async (modelKey = embedder.model.key) => {
    const index = await VectorIndex.open(options(modelKey));
    cleanups.push(() => index.close());
    await index.settle();
    return index;
  };
  let n = 0;
  /** Store the next `count` numbered memories the way the server does. */
  const write = async (count: number): Promise<string[]> => {
    const ids = await storeNumbered(store, embedder, n + 1, count);
    n += count;
    return ids;
  };
  /** How many of the first `total` memories the index finds by their own text: all of them, when nothing was lost. */
  const findable = async (index: VectorIndex, total: number): Promise<number> => {
    index.catchUp();
    let found = 0;
    for (let i = 1; i <= total; i++) {
      const text = numberedText(i);
      const [query] = await embedder.embed([text]);
      const docs = await store.describeDocs(index.search(query!, 3).map((hit) => hit.docId));
      if (docs.some((doc) => doc.text === text)) found += 1;
    }
    return found;
  };
  const snapshotFile = () => join(vectorsDir, readdirSync(vectorsDir).find((f) => f.endsWith('.hnsw'))!);
  return { store, options, open, write, findable, snapshotFile, vectorsDir };
}

describe('the persisted vector index', () => {
  it('replays only the changes after its snapshot on restart', async () => {
    const t = setup();
    await t.write(50);
    const first = await t.open();
    first.catchUp();
    await first.maybeSnapshot(true);
    expect(first.stats().snapshot_seq).toBe(50);
    await t.write(7);
    // No close: the process "crashed" after committing 7 more writes.
    const second = await t.open();
    expect(second.stats().start).toEqual({ mode: 'snapshot', replayed: 7, reason: null });
    expect(second.stats().vectors).toBe(57);
    expect(await t.findable(second, 57)).toBe(57);
  });

  it('scores exactly alike after a start from its snapshot and after a rebuild from SQLite (the int8 slab quantizes the snapshot\'s vectors to the same codes)', async () => {
    const t = setup();
    await t.write(300);
    const first = await t.open();
    first.catchUp();
    await first.maybeSnapshot(true);
    const queries = await embedder.embed(['topic1 note', 'topic4 detail 17', 'nothing like it']);
    const everyDoc = Array.from({ length: 400 }, (_, i) => i + 1);
    const fromSnapshot = await t.open();
    expect(fromSnapshot.stats().start.mode).toBe('snapshot');
    const snapshotScores = queries.map((q) => fromSnapshot.scan(q!, 300, everyDoc));
    rmSync(t.snapshotFile());
    const rebuilt = await t.open();
    expect(rebuilt.stats().start.mode).toBe('rebuild');
    const rebuiltScores = queries.map((q) => rebuilt.scan(q!, 300, everyDoc));
    expect(snapshotScores.map((hits) => hits.length)).toEqual([300, 300, 300]);
    expect(snapshotScores).toEqual(rebuiltScores);
  });

  it('forgets deletions made after the snapshot when it reloads', async () => {
    const t = setup();
    const ids = await t.write(20);
    const first = await t.open();
    first.catchUp();
    await first.maybeSnapshot(true);
    await t.store.deleteMemories(ids.slice(0, 5));
    const second = await t.open();
    expect(second.stats().vectors).toBe(15);
    const [query] = await embedder.embed(['topic1']);
    const docs = await t.store.describeDocs(second.search(query!, 20).map((hit) => hit.docId));
    expect(docs.some((doc) => doc.text.includes('topic1 '))).toBe(false);
  });

  const damages: Array<[string, (file: string) => unknown]> = [
    ['deleted', (file) => rmSync(file)],
    ['truncated', (file) => truncateSync(file, Math.floor(readFileSync(file).length * 0.6))],
    ['zero-length', (file) => truncateSync(file, 0)],
    ['corrupted in its middle', (file) => {
      const bytes = readFileSync(file);
      const middle = Math.floor(bytes.length / 2);
      for (let i = 0; i < 64; i++) bytes[middle + i] = bytes[middle + i]! ^ 0xff;
      writeFileSync(file, bytes);
    }],
    ['replaced by another model\'s file', (file) => {
      const other = HnswGraph.create({ dimension: 8, m: 8, efConstruction: 50, efSearch: 50 });
      for (let i = 0; i < 10; i++) other.upsert(i, new Float32Array(8).fill(i + 1));
      rmSync(file);
      return other.write(file);
    }],
  ];
  for (const [damage, apply] of damages) {
    it(`rebuilds from SQLite, losing nothing, when the snapshot is ${damage}`, async () => {
      const t = setup();
      await t.write(40);
      const first = await t.open();
      first.catchUp();
      await first.maybeSnapshot(true);
      await t.write(3);
      await apply(t.snapshotFile());
      const second = await t.open();
      expect(second.stats().start.mode).toBe('rebuild');
      expect(second.stats().start.reason).toBeTruthy();
      expect(await t.findable(second, 43)).toBe(43);
    });
  }

  it('rebuilds when the database belongs to a newer snapshot than itself, and keeps models apart', async () => {
    const t = setup();
    await t.write(10);
    const index = await t.open();
    index.catchUp();
    await index.maybeSnapshot(true);
    // Another model has no vectors here yet: its index is empty, not this model's.
    const other = await t.open('other-model@64#x');
    expect(other.stats()).toMatchObject({ vectors: 0, start: { mode: 'rebuild' } });
  });

  it('shuts down without waiting to index a large backlog, and the next start catches up from SQLite', async () => {
    const t = setup();
    const index = await t.open();
    await t.write(6000);
    index.catchUp();
    expect(index.stats().backlog).toBeGreaterThan(5000);
    await index.close();
    // Closed with most of the backlog still unindexed: nothing waited for it, and nothing was lost.
    expect(index.stats().backlog).toBeGreaterThan(1000);
    const reopened = await t.open();
    expect(reopened.stats().vectors).toBe(6000);
    expect(await t.findable(reopened, 30)).toBe(30);
  });

  it('loads its vectors a page at a time while writes and deletions land, and ends with exactly the visible ones', async () => {
    const t = setup();
    const ids = await t.write(12_000);
    const first = await t.open();
    await first.maybeSnapshot(true);
    await first.close();
    const loading = VectorIndex.open(t.options());
    let done = false;
    void loading.then(() => (done = true));
    // Between pages the event loop runs: add and delete memories there, as live calls would.
    let rounds = 0;
    for (; !done; rounds++) {
      await t.write(5);
      await t.store.deleteMemories([ids[rounds * 7]!]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const index = await loading;
    cleanups.push(() => index.close());
    expect(rounds).toBeGreaterThan(1);
    index.catchUp();
    await index.settle();
    expect(index.stats().vectors).toBe(12_000 + 5 * rounds - rounds);
    const total = 12_000 + 5 * rounds;
    // Of the first 20, memories 1, 8 and 15 were the first deleted (one per round).
    expect(await t.findable(index, 20)).toBe(20 - Math.min(rounds, 3));
    const [query] = await embedder.embed([numberedText(total)]);
    expect((await t.store.describeDocs(index.search(query!, 1).map((hit) => hit.docId)))[0]?.text).toContain(`number ${total} `);
  });

  it('writes snapshots less often as the index grows, in proportion to its size', async () => {
    const t = setup();
    await t.write(50);
    // Every 2 changes, stretched by size / 10: at 62 vectors a snapshot waits for 12.4 changes.
    const index = await VectorIndex.open({ ...t.options(), snapshotEveryChanges: 2, snapshotScaleVectors: 10 });
    cleanups.push(() => index.close());
    await index.settle();
    await index.maybeSnapshot(true);
    await t.write(12);
    index.catchUp();
    await index.settle();
    await index.maybeSnapshot();
    expect(index.stats().snapshot_seq).toBe(50);
    await t.write(3);
    index.catchUp();
    await index.settle();
    await index.maybeSnapshot();
    expect(index.stats().snapshot_seq).toBe(65);
  });

  it('stops loading when asked to (a shutdown during a long load)', async () => {
    const t = setup();
    await t.write(12_000);
    const stop = new AbortController();
    const loading = VectorIndex.open(t.options(), stop.signal);
    stop.abort();
    await expect(loading).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keeps writing a consistent snapshot while writes arrive during the save', async () => {
    const t = setup();
    await t.write(300);
    const index = await t.open();
    index.catchUp();
    await index.settle();
    const saving = index.maybeSnapshot(true);
    await t.write(50);
    index.catchUp();
    expect(await t.findable(index, 350)).toBe(350);
    await saving;
    await index.settle();
    const reopened = await t.open();
    expect(reopened.stats().start.mode).toBe('snapshot');
    expect(await t.findable(reopened, 350)).toBe(350);
  });
});

describe('hnswlib hazards', () => {
  const settings = { dimension: 4, m: 8, efConstruction: 50, efSearch: 50 };

  it('widens the search beam as the graph grows past 100,000 vectors', () => {
    expect(efForSize(200, 50_000)).toBe(200);
    expect(efForSize(200, 100_000)).toBe(200);
    expect(efForSize(200, 1_000_000)).toBe(500);
    expect(efForSize(200, 300_000)).toBeGreaterThan(200);
    expect(efForSize(200, 300_000)).toBeLessThan(500);
  });

  it('refuses labels that hnswlib would silently wrap', () => {
    for (const bad of [2 ** 32 + 5, -1, 1.7, Number.NaN]) expect(() => checkLabel(bad)).toThrow(RangeError);
    expect(checkLabel(2 ** 32 - 1)).toBe(2 ** 32 - 1);
  });

  it('grows capacity ahead of need and takes typed arrays', () => {
    const graph = HnswGraph.create(settings, 16);
    for (let i = 0; i < 200; i++) graph.upsert(i, Float32Array.from([i, 1, 2, 3]));
    expect(graph.size).toBe(200);
    expect(graph.search(Float32Array.from([5, 1, 2, 3]), 1)[0]!.docId).toBeGreaterThanOrEqual(0);
  });

  it('survives a filter callback that throws (native code would abort the process)', () => {
    const graph = HnswGraph.create(settings);
    for (let i = 0; i < 20; i++) graph.upsert(i, Float32Array.from([i + 1, 1, 0, 0]));
    const hits = graph.search(Float32Array.from([1, 1, 0, 0]), 5, (docId) => {
      if (docId % 2 === 0) throw new Error('boom');
      return true;
    });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((hit) => hit.docId % 2 === 1)).toBe(true);
  });

  it('reloads an empty snapshot and can add to it (hnswlib reloads it with capacity 0)', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const empty = HnswGraph.create(settings);
    const manifest = await writeSnapshot(empty, dir, 'm', 0);
    const loaded = await HnswGraph.load(join(dir, manifest.file), settings, manifest.count);
    loaded.upsert(1, Float32Array.from([1, 0, 0, 0]));
    expect(loaded.size).toBe(1);
  });

  it('refuses a snapshot that hnswlib "wrote" without writing anything', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const graph = HnswGraph.create(settings);
    graph.upsert(1, Float32Array.from([1, 0, 0, 0]));
    // hnswlib reports success writing to a missing directory or a full disk; simulate that.
    graph.write = async (file: string) => writeFileSync(file, '');
    await expect(writeSnapshot(graph, dir, 'm', 1)).rejects.toThrow(/shorter than its header/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
