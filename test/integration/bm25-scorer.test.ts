import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Bm25Scorer } from '../../src/store/sqlite/bm25.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { varintsFromHex } from '../../src/store/sqlite/doc-lengths.js';
import { FtsRowLog, KEPT_LOG_ENTRIES } from '../../src/store/sqlite/fts-row-log.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StoreFilters } from '../../src/store/store.js';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The reference: every matching row with FTS5's own bm25(), best first. */
function fts5Scores(db: Database.Database, words: readonly string[], table = 'search_fts', scope?: { namespace: string; layer?: string }): Map<number, number> {
  const match = words.map((w) => `"${w}"`).join(' OR ');
  const sql = scope
    ? `SELECT f.rowid, -bm25(${table}) AS score FROM ${table} f JOIN search_docs d ON d.doc_id = f.rowid
       WHERE ${table} MATCH ? AND d.namespace = ? AND d.hidden = 0 AND d.layer = coalesce(?, d.layer)`
    : `SELECT rowid, -bm25(${table}) AS score FROM ${table} WHERE ${table} MATCH ?`;
  const params = scope ? [match, scope.namespace, scope.layer ?? null] : [match];
  const rows = db.prepare(sql).all(...params) as Array<{ rowid: number; score: number }>;
  return new Map(rows.map((row) => [row.rowid, row.score]));
}

function expectSameScores(scorer: Bm25Scorer, db: Database.Database, words: readonly string[]): void {
  const expected = fts5Scores(db, words);
  const hits = scorer.top(words, 100_000);
  expect(hits).not.toBeNull();
  expect(new Set(hits!.map((hit) => hit.doc_id))).toEqual(new Set(expected.keys()));
  for (const hit of hits!) expect(hit.score).toBeCloseTo(expected.get(hit.doc_id)!, 9);
  // Each hit counts the words it holds as FTS5 matches them (a word given twice counts twice).
  const holders = words.map((word) => new Set(db.prepare('SELECT rowid FROM search_fts WHERE search_fts MATCH ?').pluck().all(`"${word}"`)));
  for (const hit of hits!) expect(hit.matched).toBe(holders.filter((rows) => rows.has(hit.doc_id)).length);
  // Best first; equal scores newest first.
  for (let i = 1; i < hits!.length; i++) {
    const [a, b] = [hits![i - 1]!, hits![i]!];
    expect(a.score > b.score || (a.score === b.score && a.doc_id > b.doc_id)).toBe(true);
  }
}

/** A real database file with the project's schema, rows written straight into search_fts. */
function openFts(): { db: Database.Database; add: (rowid: number, body: string) => void; remove: (rowid: number) => void } {
  const { dir, cleanup } = makeTempDir();
  const { db } = openDatabase(join(dir, 'pinak.db'), 2000);
  cleanups.push(cleanup, () => db.close());
  const insert = db.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)');
  const remove = db.prepare('DELETE FROM search_fts WHERE rowid = ?');
  return { db, add: (rowid, body) => void insert.run(rowid, body), remove: (rowid) => void remove.run(rowid) };
}

/** Two connections to one database file, as two processes hold it: this one's and another's. */
function twoConnections(): { db: Database.Database; other: Database.Database } {
  const { dir, cleanup } = makeTempDir();
  const file = join(dir, 'pinak.db');
  const { db } = openDatabase(file, 2000);
  const { db: other } = openDatabase(file, 2000);
  cleanups.push(cleanup, () => db.close(), () => other.close());
  return { db, other };
}

const WORDS = ['river', 'stone', 'garden', 'music', 'running', 'runs', 'café', 'letter', 'winter', 'bridge', 'lantern', 'orchard'];

/** Deterministic sentences of 1 to 40 words with repeats, so lengths and term frequencies vary. */
function sentence(i: number): string {
  const length = 1 + ((i * 7) % 40);
  return Array.from({ length }, (_, j) => WORDS[(i * 31 + j * j * 17 + j) % WORDS.length]).join(' ');
}

/** Two connections, 100 rows, and this one's scorer with every length loaded and checked against FTS5. */
function loadedBesideAnother(): { db: Database.Database; other: Database.Database; scorer: Bm25Scorer } {
  const { db, other } = twoConnections();
  for (let i = 1; i <= 100; i++) db.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(i, sentence(i));
  const scorer = Bm25Scorer.for(db, 'search_fts')!;
  scorer.lengths.loadNow();
  expectSameScores(scorer, db, ['river', 'stone']);
  return { db, other, scorer };
}

describe('BM25 computed in memory', () => {
  it('reads the varints FTS5 stores row lengths in', () => {
    expect(varintsFromHex('13')).toEqual([19]);
    expect(varintsFromHex('8100')).toEqual([128]);
    expect(varintsFromHex('FF7F')).toEqual([16_383]);
    expect(varintsFromHex('818000')).toEqual([16_384]);
    expect(varintsFromHex('1381008180000A')).toEqual([19, 128, 16_384, 10]);
  });

  it('scores every matching row as FTS5 bm25() does: stems, diacritics, repeated words, long rows', () => {
    const { db, add } = openFts();
    for (let i = 1; i <= 400; i++) add(i, sentence(i));
    // Lengths stored in two and three bytes.
    add(401, `${'river '.repeat(300)}stone`);
    add(402, Array.from({ length: 17_000 }, (_, j) => WORDS[j % WORDS.length]).join(' '));
    add(403, 'Cafe Café CAFÉ');
    const scorer = Bm25Scorer.for(db, 'search_fts')!;
    scorer.lengths.loadNow();
    expectSameScores(scorer, db, ['river']);
    expectSameScores(scorer, db, ['river', 'stone', 'river']);
    expectSameScores(scorer, db, ['stone', 'garden', 'winter']);
    expectSameScores(scorer, db, ['cafe', 'letter']);
    expectSameScores(scorer, db, ['run', 'running', 'runs']);
    expectSameScores(scorer, db, ['lantern', 'orchard', 'bridge', 'music', 'absent']);
    expect(scorer.top(['absent'], 10)).toEqual([]);
    // The limit keeps the best.
    const all = scorer.top(['river', 'music'], 100_000)!;
    expect(scorer.top(['river', 'music'], 7)).toEqual(all.slice(0, 7));
  });

  it('leaves to FTS5 what it cannot score the same way: until the lengths are loaded, and words that are phrases', async () => {
    const { db, add } = openFts();
    for (let i = 1; i <= 50; i++) add(i, sentence(i));
    add(51, 'send an e-mail to the river office');
    const scorer = Bm25Scorer.for(db, 'search_fts')!;
    expect(scorer.top(['river'], 10)).toBeNull();
    // That first call started loading in the background.
    for (let i = 0; i < 100 && !scorer.lengths.ready; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(scorer.lengths.ready).toBe(true);
    expectSameScores(scorer, db, ['river']);
    expect(scorer.top(['e-mail', 'river'], 10)).toBeNull();
    // Only one-column tables: the lengths read are a row's only column's.
    db.exec("CREATE VIRTUAL TABLE two_columns USING fts5 (title, body)");
    expect(Bm25Scorer.for(db, 'two_columns')).toBeNull();
    expect(Bm25Scorer.for(db, 'no_such_table')).toBeNull();
  });

  it('leaves to FTS5 words repeated many times within rows, where postings one per occurrence cost more', () => {
    const { db, add } = openFts();
    for (let i = 1; i <= 3; i++) add(i, `${'river '.repeat(5_000)}stone`);
    add(4, 'stone bridge');
    const scorer = Bm25Scorer.for(db, 'search_fts')!;
    scorer.lengths.loadNow();
    expect(scorer.top(['river'], 10)).toBeNull();
    expectSameScores(scorer, db, ['stone', 'bridge']);
  });

  it("follows another connection's logged rewrites and removals and its new rows, scoring in memory and exactly", () => {
    const { db, other, scorer } = loadedBesideAnother();
    // Another process writes as the store's writers do: rewrites and removals into the change log.
    const theirs = new FtsRowLog(other, 'search_fts');
    other.transaction(() => {
      other.prepare('DELETE FROM search_fts WHERE rowid = ?').run(7);
      other.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(7, 'river stone river stone garden music winter');
      theirs.forget(7);
      other.prepare('DELETE FROM search_fts WHERE rowid = ?').run(8);
      theirs.forget(8);
      other.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(101, 'river');
      theirs.forget(101, true);
    })();
    expectSameScores(scorer, db, ['river', 'stone']);
    expect(scorer.lengths.of(7)).toBe(7);
    expect(scorer.lengths.of(8)).toBe(0);
    // A rewrite of the window table is not one of this table's.
    new FtsRowLog(other, 'window_fts').forget(9);
    other.prepare('DELETE FROM search_fts WHERE rowid = ?').run(9);
    other.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(9, 'stone');
    theirs.forget(9);
    expectSameScores(scorer, db, ['river', 'stone']);
    expect(scorer.lengths.of(9)).toBe(1);
  });

  it('reads every length again when entries it had not followed were trimmed from the log, FTS5 scoring meanwhile', async () => {
    const { db, other, scorer } = loadedBesideAnother();
    // More rewrites than the log keeps, while this process does not search.
    const theirs = new FtsRowLog(other, 'search_fts');
    other.transaction(() => {
      other.prepare('DELETE FROM search_fts WHERE rowid = ?').run(7);
      other.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(7, 'river stone river stone garden music winter');
      for (let i = 0; i <= KEPT_LOG_ENTRIES + 1_000; i++) theirs.forget(7);
    })();
    expect(other.prepare('SELECT count(*) FROM fts_row_changes').pluck().get()).toBeLessThanOrEqual(KEPT_LOG_ENTRIES + 1_000);
    expect(scorer.top(['river', 'stone'], 10)).toBeNull();
    expect(scorer.lengths.ready).toBe(false);
    for (let i = 0; i < 100 && !scorer.lengths.ready; i++) await new Promise((resolve) => setImmediate(resolve));
    expectSameScores(scorer, db, ['river', 'stone']);
    expect(scorer.lengths.of(7)).toBe(7);
  });

  it('keeps scoring in memory when another connection commits without touching the table (an audit row)', () => {
    const { db, other, scorer } = loadedBesideAnother();
    const generation = scorer.lengths.generation;
    // Another process writes elsewhere, as a worker's audit rows do: the lengths still hold, and nothing is read again.
    other.prepare('CREATE TABLE elsewhere (x)').run();
    other.prepare('INSERT INTO elsewhere VALUES (1)').run();
    expectSameScores(scorer, db, ['river', 'stone']);
    expect(scorer.lengths.generation).toBe(generation);
    // This process adds a row, then the other writes elsewhere again: still in memory, still exact.
    db.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(101, 'river river');
    expectSameScores(scorer, db, ['river', 'stone']);
    other.prepare('INSERT INTO elsewhere VALUES (2)').run();
    expectSameScores(scorer, db, ['river', 'stone']);
  });

  it('survives its database closing while the lengths load', async () => {
    const { db, add } = openFts();
    db.transaction(() => {
      for (let i = 1; i <= 12_000; i++) add(i, 'river');
    })();
    const scorer = Bm25Scorer.for(db, 'search_fts')!;
    const loading = scorer.lengths.load();
    db.close();
    await expect(loading).resolves.toBeUndefined();
    expect(scorer.lengths.ready).toBe(false);
  });

  it('keeps up with rows added, rewritten and removed after loading', () => {
    const { db, add, remove } = openFts();
    for (let i = 1; i <= 200; i++) add(i, sentence(i));
    const scorer = Bm25Scorer.for(db, 'search_fts')!;
    scorer.lengths.loadNow();
    // Added after loading: read when next needed, without being told.
    for (let i = 201; i <= 260; i++) add(i, sentence(i));
    // Rewritten and removed: the writer tells the lengths, as the store's writers do.
    remove(10);
    add(10, 'river river river');
    scorer.lengths.forget(10);
    remove(20);
    scorer.lengths.forget(20);
    expectSameScores(scorer, db, ['river', 'stone']);
    expectSameScores(scorer, db, WORDS);
  });
});

describe('postings of frequent words kept between searches', () => {
  it('serves them while the table is unchanged, and never after a row was added, rewritten or removed, here or by another connection', () => {
    const { db, other } = twoConnections();
    const insert = db.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)');
    const remove = db.prepare('DELETE FROM search_fts WHERE rowid = ?');
    // About 1,700 occurrences of each word: long enough lists to keep.
    db.transaction(() => {
      for (let i = 1; i <= 1_000; i++) insert.run(i, sentence(i));
    })();
    const scorer = Bm25Scorer.for(db, 'search_fts')!;
    scorer.lengths.loadNow();
    const frequent = ['river', 'stone', 'garden'];
    expectSameScores(scorer, db, frequent);
    expect(scorer.keptPostings).toBeGreaterThan(3_000);
    const before = scorer.top(frequent, 20);
    expect(scorer.top(frequent, 20)).toEqual(before);

    insert.run(1_001, 'river river stone garden');
    expectSameScores(scorer, db, frequent);
    expect(scorer.top(frequent, 1)![0]!.doc_id).toBe(1_001);

    remove.run(1_001);
    scorer.lengths.forget(1_001);
    expectSameScores(scorer, db, frequent);
    expect(scorer.top(frequent, 20)!.map((hit) => hit.doc_id)).not.toContain(1_001);

    remove.run(5);
    insert.run(5, 'garden garden garden');
    scorer.lengths.forget(5);
    expectSameScores(scorer, db, frequent);

    // Another process adds a row and rewrites one: the kept lists are not trusted after either.
    other.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(1_002, 'stone stone stone river');
    expectSameScores(scorer, db, frequent);
    expect(scorer.top(['stone'], 100_000)!.map((hit) => hit.doc_id)).toContain(1_002);
    other.transaction(() => {
      other.prepare('DELETE FROM search_fts WHERE rowid = ?').run(6);
      other.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(6, 'lantern');
      new FtsRowLog(other, 'search_fts').forget(6);
    })();
    expectSameScores(scorer, db, frequent);
    expect(scorer.top(frequent, 100_000)!.map((hit) => hit.doc_id)).not.toContain(6);
  });
});

describe('keyword search with in-memory BM25, through the server', () => {
  const FILTERS: StoreFilters = { namespace: 'default', time_field: 'occurred_at', include_superseded: false };

  async function waitForLengths(linked: Linked): Promise<void> {
    const store = linked.runtime.store as SqliteStore;
    await store.searchKeyword({ terms: ['river'], filters: FILTERS, limit: 10 });
    await store.searchWindows({ terms: ['river'], filters: FILTERS, limit: 10 });
    const { scorers } = store as unknown as { scorers: Record<'search_fts' | 'window_fts', Bm25Scorer> };
    const loaded = (): boolean => scorers.search_fts.lengths.ready && scorers.window_fts.lengths.ready;
    for (let i = 0; i < 100 && !loaded(); i++) await new Promise((resolve) => setImmediate(resolve));
    expect(loaded()).toBe(true);
  }

  /** The store's best hits against FTS5's ranking of the same rows (ties newest first), read over a second connection. */
  async function expectAsFts5(
    linked: Linked,
    words: string[],
    table: 'search_fts' | 'window_fts' = 'search_fts',
    scope?: { namespace: string; layer?: 'semantic' | 'episodic' },
  ): Promise<void> {
    const reference = new Database(join(linked.dir, 'pinak.db'), { readonly: true });
    try {
      const expected = [...fts5Scores(reference, words, table, scope).entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0]).slice(0, 20);
      expect(expected.length).toBeGreaterThan(0);
      const store = linked.runtime.store as SqliteStore;
      const scorer = (store as unknown as { scorers: Record<'search_fts' | 'window_fts', Bm25Scorer> }).scorers[table];
      const filters: StoreFilters = scope ? { ...FILTERS, namespace: scope.namespace, ...(scope.layer ? { layers: [scope.layer] } : {}) } : FILTERS;
      const query = { terms: words, filters, limit: 20 };
      // Count the answers scored in memory: FTS5 would give the same ranking, so the test must see which ran.
      const top = scorer.top.bind(scorer);
      let scoredHere = 0;
      scorer.top = (...args) => {
        const hits = top(...args);
        if (hits) scoredHere += 1;
        return hits;
      };
      const hits = table === 'search_fts' ? await store.searchKeyword(query) : await store.searchWindows(query);
      scorer.top = top;
      expect(scoredHere).toBe(1);
      expect(hits.map((hit) => hit.doc_id)).toEqual(expected.map(([docId]) => docId));
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]![1], 9));
    } finally {
      reference.close();
    }
  }

  it('ranks as FTS5 does after memories are added and forgotten and a goal is retitled', async () => {
    const linked = await linkedServer();
    cleanups.push(() => linked.close());
    const memories = Array.from({ length: 100 }, (_, i) => ({ content: sentence(i + 1) }));
    const stored = (await callOk(linked.client, 'remember', { memories })).stored.map((m: { id: string }) => m.id);
    const turns = Array.from({ length: 40 }, (_, i) => ({ content: sentence(i + 200), thread_id: 'talk', layer: 'episodic' }));
    await callOk(linked.client, 'remember', { memories: turns });
    const goal = (await callOk(linked.client, 'remember_goal', { title: 'river' })).goal;
    await waitForLengths(linked);
    await expectAsFts5(linked, ['river', 'garden']);

    await callOk(linked.client, 'remember_goal', { goal_id: goal.id, title: 'river walk along the old stone bridge in winter' });
    await callOk(linked.client, 'forget', { ids: stored.slice(0, 30) });
    await callOk(linked.client, 'remember', { memories: [{ content: 'river' }, { content: `garden ${'music '.repeat(50)}` }] });
    await expectAsFts5(linked, ['river', 'garden']);
    await expectAsFts5(linked, ['stone', 'bridge', 'winter']);
    // Thread windows: a turn added in the middle rewrites its neighbours' windows.
    await expectAsFts5(linked, ['river', 'garden'], 'window_fts');
    await callOk(linked.client, 'remember', { memories: [{ content: 'garden river lantern', thread_id: 'talk', layer: 'episodic', position: 10.5 }] });
    await expectAsFts5(linked, ['river', 'garden', 'lantern'], 'window_fts');
    const found = await callOk(linked.client, 'search_memory', { query: 'old stone bridge walk', mode: 'keyword', limit: 3 });
    expect(found.hits[0].id).toBe(goal.id);

    // A small namespace (a few % of the store) is listed and its docs scored in memory; a layer filter applies after.
    const side = Array.from({ length: 8 }, (_, i) => ({ content: sentence(i + 300), namespace: 'side', layer: i % 2 ? 'semantic' : 'episodic' }));
    await callOk(linked.client, 'remember', { memories: side });
    await expectAsFts5(linked, ['river', 'garden', 'stone', 'winter'], 'search_fts', { namespace: 'side' });
    await expectAsFts5(linked, ['river', 'garden', 'stone', 'winter'], 'search_fts', { namespace: 'side', layer: 'semantic' });
  });

  it('ranks as FTS5 does, still in memory, while another server on the same file adds, rewrites and removes rows', async () => {
    const reader = await linkedServer();
    cleanups.push(() => reader.close());
    const writer = await linkedServer({ dir: reader.dir });
    cleanups.push(() => writer.close());
    const memories = Array.from({ length: 100 }, (_, i) => ({ content: sentence(i + 1) }));
    const stored = (await callOk(writer.client, 'remember', { memories })).stored.map((m: { id: string }) => m.id);
    const turns = Array.from({ length: 40 }, (_, i) => ({ content: sentence(i + 200), thread_id: 'talk', layer: 'episodic' }));
    await callOk(writer.client, 'remember', { memories: turns });
    const goal = (await callOk(writer.client, 'remember_goal', { title: 'river' })).goal;
    await waitForLengths(reader);
    await expectAsFts5(reader, ['river', 'garden']);
    await expectAsFts5(reader, ['river', 'garden'], 'window_fts');

    // Every kind of change the other server's writers make: a retitled goal, forgotten memories, new ones, a turn in the middle of a thread.
    await callOk(writer.client, 'remember_goal', { goal_id: goal.id, title: 'river walk along the old stone bridge in winter' });
    await callOk(writer.client, 'forget', { ids: stored.slice(0, 30) });
    await callOk(writer.client, 'remember', { memories: [{ content: 'river' }, { content: `garden ${'music '.repeat(50)}` }] });
    await callOk(writer.client, 'remember', { memories: [{ content: 'garden river lantern', thread_id: 'talk', layer: 'episodic', position: 10.5 }] });
    await expectAsFts5(reader, ['river', 'garden']);
    await expectAsFts5(reader, ['stone', 'bridge', 'winter']);
    await expectAsFts5(reader, ['river', 'garden', 'lantern'], 'window_fts');
    const found = await callOk(reader.client, 'search_memory', { query: 'old stone bridge walk', mode: 'keyword', limit: 3 });
    expect(found.hits[0].id).toBe(goal.id);
  });
});
