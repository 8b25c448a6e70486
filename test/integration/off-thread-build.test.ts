import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { VectorIndexOptions } from '../../src/vector/index-settings.js';
import { VectorIndex } from '../../src/vector/vector-index.js';
import { startOtherProcess } from '../contract/other-process.js';
import { HashEmbedder } from '../helpers/hash-embedder.js';
import { numberedText, storeNumbered } from '../helpers/numbered-memories.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// A large backlog (a bulk load) is built into a new graph by a worker
// thread, handed over as a verified snapshot, with the changes made meanwhile
// applied on top; a build that fails or is stopped loses nothing.

const embedder = new HashEmbedder(64);
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const { dir, cleanup } = makeTempDir('pinak-build-');
  const store = SqliteStore.open({ file: join(dir, 'pinak.db'), busyTimeoutMs: 1000 });
  cleanups.push(cleanup, () => store.close());
  const lines: Array<{ msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  const options = (overrides: Partial<VectorIndexOptions> = {}): VectorIndexOptions => ({
    dir: join(dir, 'vectors'),
    modelKey: embedder.model.key,
    graph: { dimension: 64, m: 16, efConstruction: 100, efSearch: 100 },
    log: store.vectorLog,
    logger,
    snapshotEveryChanges: 1_000_000,
    snapshotIntervalMs: 3_600_000,
    exactScanLimit: 0,
    offThreadBuildAbove: 500,
    ...overrides,
  });
  const open = async (overrides: Partial<VectorIndexOptions> = {}) => {
    const index = await VectorIndex.open(options(overrides));
    cleanups.push(() => index.close());
    return index;
  };
  const text = numberedText;
  let n = 0;
  /** Store the next `count` numbered memories the way the server does. */
  const write = async (count: number): Promise<string[]> => {
    const ids = await storeNumbered(store, embedder, n + 1, count);
    n += count;
    return ids;
  };
  /** Which of memories `from`..`to` the index finds by their own text. */
  const found = async (index: VectorIndex, from: number, to: number): Promise<number[]> => {
    index.catchUp();
    const hits: number[] = [];
    for (let i = from; i <= to; i++) {
      const [query] = await embedder.embed([text(i)]);
      const docs = await store.describeDocs(index.search(query!, 3).map((hit) => hit.docId));
      if (docs.some((doc) => doc.text === text(i))) hits.push(i);
    }
    return hits;
  };
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  return { store, open, write, found, range, lines, vectorsDir: join(dir, 'vectors'), file: join(dir, 'pinak.db') };
}

describe('building the vector graph off the serving thread', () => {
  it('builds a large backlog in a worker, answers exactly meanwhile, and hands over a snapshot a restart loads', async () => {
    const t = setup();
    await t.write(2000);
    const index = await t.open();
    // Opening found 2,000 vectors and no snapshot: the whole index is one backlog, given to a worker.
    expect(index.stats().building).toEqual({ built: expect.any(Number), vectors: 2000 });
    expect(await t.found(index, 1, 50)).toEqual(t.range(1, 50));
    await index.settle();
    const stats = index.stats();
    expect(stats).toMatchObject({ vectors: 2000, backlog: 0 });
    expect(stats.building).toBeUndefined();
    // The worker's snapshot is the one on record, at the log position its vectors were read at.
    expect(t.store.vectorLog.readManifest(stats.model_key)).toMatchObject({ seq: 2000, count: 2000 });
    expect(t.lines.map((l) => l.msg)).toContain('vector graph built off the serving thread');
    expect(await t.found(index, 1, 2000)).toEqual(t.range(1, 2000));
    await index.close();

    const again = await t.open();
    await again.settle();
    expect(again.stats().start).toEqual({ mode: 'snapshot', replayed: 0, reason: null });
    expect(await t.found(again, 1, 2000)).toEqual(t.range(1, 2000));
  }, 120_000);

  it('applies what changed during the build on top of the built graph', async () => {
    const t = setup();
    const ids = await t.write(3000);
    const index = await t.open();
    expect(index.stats().building).toBeDefined();
    // While the worker builds: new memories, and deletions of memories it was sent.
    await t.write(300);
    await t.store.deleteMemories(ids.slice(0, 100));
    index.catchUp();
    expect(index.stats().building).toBeDefined();
    await index.settle();
    expect(index.stats()).toMatchObject({ vectors: 3200, backlog: 0 });
    const hits = await t.found(index, 1, 3300);
    expect(hits).toEqual(t.range(101, 3300));
  }, 120_000);

  it('starts the next build from the snapshot on record, inserting only what changed since', async () => {
    const t = setup();
    const ids = await t.write(2000);
    const index = await t.open();
    await index.settle();
    // As a bulk load goes on: more than the index again arrives, and some of the first memories are deleted.
    await t.write(2500);
    await t.store.deleteMemories(ids.slice(0, 50));
    index.catchUp();
    expect(index.stats().building).toEqual({ built: expect.any(Number), vectors: 2500 });
    await index.settle();
    const builds = t.lines.filter((l) => l.msg === 'building the vector graph off the serving thread') as Array<{ msg: string; from: number }>;
    expect(builds.map((b) => b.from)).toEqual([0, 2000]);
    expect(index.stats()).toMatchObject({ vectors: 4450, backlog: 0 });
    expect(await t.found(index, 1, 4500)).toEqual(t.range(51, 4500));
  }, 120_000);

  it('builds a backlog over the threshold in a worker however small it is against the index', async () => {
    const t = setup();
    await t.write(2000);
    const index = await t.open();
    await index.settle();
    // 600 more: over the 500 set here, under a quarter of the 2,600 the index then holds.
    await t.write(600);
    index.catchUp();
    expect(index.stats().building).toEqual({ built: expect.any(Number), vectors: 600 });
    await index.settle();
    expect(index.stats()).toMatchObject({ vectors: 2600, backlog: 0 });
    expect(await t.found(index, 1951, 2600)).toEqual(t.range(1951, 2600));
  }, 120_000);

  it('follows writes that no search reads, so a write-only bulk load is built while it runs', async () => {
    const t = setup();
    await t.write(100);
    const index = await t.open();
    await index.settle();
    await t.write(900);
    // Nothing here reads the log: the index does, within about a second, and gives the backlog to a worker.
    const deadline = Date.now() + 10_000;
    while (index.stats().vectors < 1000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(index.stats().vectors).toBe(1000);
    // No snapshot was written yet, so the worker builds the whole index.
    expect(index.stats().building).toEqual({ built: expect.any(Number), vectors: 1000 });
    await index.settle();
    expect(t.lines.filter((l) => l.msg === 'vector graph built off the serving thread')).toHaveLength(1);
    expect(await t.found(index, 1, 1000)).toEqual(t.range(1, 1000));
  }, 120_000);

  it('keeps answering while it applies a large backlog itself because another process holds the build lease', async () => {
    const t = setup();
    await t.write(1000);
    const first = await t.open();
    await first.settle();
    await first.close();
    // 8,000 written while no index follows, and the lease held elsewhere: the next start replays them all and may not build.
    await t.write(8000);
    const other = await startOtherProcess({ module: new URL('../contract/sqlite-backend.ts', import.meta.url), exportName: 'openSqliteStore' }, t.file);
    cleanups.push(() => other.close());
    expect(await other.acquireLease(`snapshot:${embedder.model.key}`, 600_000)).toBe(true);
    const index = await t.open();
    expect(index.stats().start).toMatchObject({ mode: 'snapshot', replayed: 8000 });
    expect(index.stats().building).toBeUndefined();
    // The backlog is over the threshold but no worker may build it: this thread inserts it in slices with rests
    // three times as long, and timers fire in them (a thread that retried the build after every slice took no rest:
    // about 20 of these 5 ms timers fired while it applied the backlog, against 300 and more with rests).
    let ticks = 0;
    const deadline = Date.now() + 60_000;
    while (index.stats().backlog > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      ticks += 1;
    }
    expect(index.stats()).toMatchObject({ vectors: 9000, backlog: 0 });
    expect(ticks).toBeGreaterThanOrEqual(100);
    expect(await t.found(index, 8901, 9000)).toEqual(t.range(8901, 9000));
  }, 120_000);

  it('loses nothing when the build is stopped: the next start builds again', async () => {
    const t = setup();
    await t.write(3000);
    const index = await t.open();
    expect(index.stats().building).toBeDefined();
    await index.close();
    expect(t.store.vectorLog.readManifest(embedder.model.key)).toBeUndefined();

    const again = await t.open();
    expect(again.stats().start.mode).toBe('rebuild');
    await again.settle();
    expect(again.stats()).toMatchObject({ vectors: 3000, backlog: 0 });
    expect(await t.found(again, 1, 3000)).toEqual(t.range(1, 3000));
  }, 120_000);

  it('applies the backlog on the serving thread when the worker cannot write its snapshot', async () => {
    const t = setup();
    await t.write(1000);
    // A file where the snapshot directory should be: the worker's write fails.
    writeFileSync(t.vectorsDir, 'not a directory');
    const index = await t.open();
    await index.settle();
    expect(index.stats()).toMatchObject({ vectors: 1000, backlog: 0 });
    expect(index.stats().building).toBeUndefined();
    expect(t.lines.map((l) => l.msg)).toContain('the off-thread graph build failed; applying the backlog here instead');
    expect(await t.found(index, 1, 1000)).toEqual(t.range(1, 1000));
  }, 120_000);

  it('keeps small backlogs on the serving thread', async () => {
    const t = setup();
    await t.write(400);
    const index = await t.open();
    expect(index.stats().building).toBeUndefined();
    await index.settle();
    expect(await t.found(index, 1, 400)).toEqual(t.range(1, 400));
  }, 60_000);
});
