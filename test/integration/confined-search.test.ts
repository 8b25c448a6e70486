import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL, type Principal } from '../../src/domain/principal.js';
import { createLogger } from '../../src/logging.js';
import { assembleRuntime, type Runtime } from '../../src/runtime.js';
import { createServer } from '../../src/server.js';
import type { Bm25Scorer } from '../../src/store/sqlite/bm25.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { VectorIndex } from '../../src/vector/vector-index.js';
import type { KeywordHit, StoreFilters } from '../../src/store/store.js';
import { callOk } from '../helpers/calls.js';
import { HashEmbedder } from '../helpers/hash-embedder.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { seededRandom, sentence } from '../helpers/sentences.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Small, so the row budget's choices (judged on the namespace's own counts) are exercised. */
const ROW_BUDGET = 40;
/** A word FTS5 reads as a phrase of several tokens. */
const PHRASE_WORD = 'क्षत्रिय';
const ALPHA_READER: Principal = { id: 'alpha-reader', tenant: 'local', role: 'reader', namespaces: ['alpha'], remoteAddress: null };
const CONFINED: StoreFilters = { namespace: 'alpha', time_field: 'occurred_at', include_superseded: false, confined: true };

type Call = { tool: string; args: Record<string, unknown> };

/** The namespace "alpha" as a sequence of tool calls: plain memories, a thread, a correction, a goal with a plan, a phrase, long repeats, a speaker. */
function alphaCalls(): Call[] {
  const random = seededRandom(11);
  const at = (i: number): string => new Date(Date.UTC(2025, 0, 1 + i)).toISOString();
  const memory = (content: string, i: number, extra: Record<string, unknown> = {}) => ({ content, namespace: 'alpha', occurred_at: at(i), ...extra });
  const calls: Call[] = [];
  for (let batch = 0; batch < 4; batch++) {
    const memories = Array.from({ length: 15 }, (_, j) => {
      const i = batch * 15 + j;
      // "harbour" in fewer rows of alpha than the budget, "note" in more: the namespace's counts decide which words are matched.
      const words = `${i % 2 ? ' harbour' : ''}${i % 6 ? ' note' : ''}${i % 5 === 0 ? ' zephyr zephyr' : ''}`;
      return memory(`${sentence(random)}${words}`, i, { tags: [`t${i % 3}`], layer: i % 4 ? 'semantic' : 'episodic' });
    });
    calls.push({ tool: 'remember', args: { memories } });
  }
  const turns = ['Did you see the zephyr kite over the harbour?', 'Yes, it was red and gold.', 'Where did it land?', 'Near the old lantern by the pier.', 'I painted that lantern last spring.', 'It looks wonderful with the new paint.'];
  calls.push({ tool: 'remember', args: { memories: turns.map((content, i) => memory(content, 70 + i, { thread_id: 'chat', layer: 'episodic', metadata: { speaker: i % 2 ? 'Jon' : 'Maria' } })) } });
  calls.push({ tool: 'remember', args: { memories: [memory(`The ${PHRASE_WORD} festival has a zephyr parade near the harbour.`, 80), memory(`${'ox '.repeat(7000)}zephyr`, 81), memory(`${'ox '.repeat(7000)}lantern`, 82)] } });
  calls.push({ tool: 'remember_goal', args: { namespace: 'alpha', title: 'Repaint the harbour lantern', description: 'zephyr proof paint', plan: [{ title: 'Buy lantern paint' }, { title: 'Paint the lantern', detail: 'two coats, harbour side first' }] } });
  return calls;
}

/** Other namespaces' records, interleaved with alpha's in the mixed store: the same words, threads, forgets and a retitled goal. */
async function writeOthers(client: Client, round: number): Promise<void> {
  const random = seededRandom(100 + round);
  const ns = round % 2 ? 'beta' : 'gamma';
  const memories = Array.from({ length: 25 }, (_, i) => ({ content: `${sentence(random)} zephyr harbour ${i % 3 ? 'lantern' : PHRASE_WORD} ${'ox '.repeat(i % 4 ? 0 : 300)}`, namespace: ns }));
  const stored = (await callOk(client, 'remember', { memories })).stored.map((m: { id: string }) => m.id);
  await callOk(client, 'remember', { memories: ['zephyr harbour?', 'lantern', 'zephyr lantern harbour'].map((content) => ({ content, namespace: ns, thread_id: `t${round}`, metadata: { speaker: 'Jon' } })) });
  await callOk(client, 'forget', { ids: stored.slice(0, 5) });
  const goal = (await callOk(client, 'remember_goal', { namespace: ns, title: `zephyr goal ${round}` })).goal;
  await callOk(client, 'remember_goal', { goal_id: goal.id, title: `harbour zephyr lantern goal ${round}` });
}

/** A client of the runtime for another principal (the linked server's own client is the local one). */
async function clientFor(runtime: Runtime, principal: Principal): Promise<Client> {
  const { server } = createServer(runtime, principal);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'limited', version: '1' });
  await client.connect(clientSide);
  cleanups.push(() => client.close(), () => server.close());
  return client;
}

/** Wait for the lengths every in-memory scorer of the store holds (a search starts loading them). */
async function lengthsLoaded(linked: Linked): Promise<void> {
  const { scorers } = linked.runtime.store as unknown as { scorers: Record<'search_fts' | 'window_fts', Bm25Scorer> };
  for (const scorer of Object.values(scorers)) {
    void scorer.lengths.load();
    for (let i = 0; i < 200 && !scorer.lengths.current(); i++) await new Promise((resolve) => setImmediate(resolve));
    expect(scorer.lengths.current()).toBe(true);
  }
}

/**
 * Rewrite the windows afresh, as migration 0006 builds them: FTS5 never lowers its row count and token total when a
 * row is deleted, and every turn appended to a thread rewrites its neighbour's window, so only a table written once
 * has the statistics of the rows it holds.
 */
function rebuildWindows(file: string): void {
  const db = new Database(file);
  try {
    db.exec(`INSERT INTO window_fts (window_fts) VALUES ('delete-all');
      INSERT INTO window_fts (rowid, body)
        SELECT w.doc_id, concat_ws(char(10), b.content, m.content, a.content) FROM thread_windows w
        JOIN memories m ON m.doc_id = w.doc_id LEFT JOIN memories b ON b.doc_id = w.before_doc LEFT JOIN memories a ON a.doc_id = w.after_doc;`);
  } finally {
    db.close();
  }
}

interface Stores {
  /** Alpha and other namespaces, interleaved; its client is a key limited to alpha. */
  mixed: Linked;
  confined: Client;
  /** Alpha alone, written by the same calls in the same order: the oracle. */
  alone: Linked;
}

async function buildStores(): Promise<Stores> {
  const calls = alphaCalls();
  const mixed = await linkedServer({ embedder: true, keywordRowBudget: ROW_BUDGET });
  cleanups.push(() => mixed.close());
  const { dir, cleanup } = makeTempDir();
  cleanups.push(cleanup);
  const building = await linkedServer({ dir, embedder: true, keywordRowBudget: ROW_BUDGET });
  for (const [round, call] of calls.entries()) {
    await writeOthers(mixed.client, round);
    await callOk(mixed.client, call.tool, call.args);
    await callOk(building.client, call.tool, call.args);
  }
  await writeOthers(mixed.client, calls.length);
  await building.close();
  rebuildWindows(join(dir, 'pinak.db'));
  const alone = await linkedServer({ dir, embedder: true, keywordRowBudget: ROW_BUDGET });
  cleanups.push(() => alone.close());
  await alone.runtime.store.searchKeyword({ terms: ['zephyr'], filters: { ...CONFINED, confined: false }, limit: 1 });
  await mixed.runtime.store.searchKeyword({ terms: ['zephyr'], filters: CONFINED, limit: 1 });
  await lengthsLoaded(alone);
  await lengthsLoaded(mixed);
  return { mixed, confined: await clientFor(mixed.runtime, ALPHA_READER), alone };
}

/** Hits as texts (ids differ between the stores), best first, with scores and soft-AND counts. */
async function described(linked: Linked, hits: readonly KeywordHit[]): Promise<Array<{ text: string; score: number; matched?: number }>> {
  const texts = await linked.runtime.store.docTexts(hits.map((hit) => hit.doc_id));
  return hits.map((hit) => ({ text: texts.get(hit.doc_id)!, score: hit.score, ...(hit.matched === undefined ? {} : { matched: hit.matched }) }));
}

function expectSameRanking(got: Array<{ text: string; score: number; matched?: number }>, expected: Array<{ text: string; score: number; matched?: number }>, label: string): void {
  expect(got.map((hit) => hit.text), label).toEqual(expected.map((hit) => hit.text));
  expect(got.map((hit) => hit.matched), label).toEqual(expected.map((hit) => hit.matched));
  got.forEach((hit, i) => expect(hit.score, `${label} #${i}`).toBeCloseTo(expected[i]!.score, 9));
}

/** A search_memory answer without what differs between two stores by construction: ids, and a goal's or step's time (when it was written). */
function comparable(result: Record<string, any>): unknown {
  return {
    ...result,
    hits: result.hits.map((hit: Record<string, any>) => ({
      ...hit,
      id: undefined,
      goal_id: hit.goal_id === null ? null : 'goal',
      occurred_at: hit.type === 'memory' ? hit.occurred_at : undefined,
      context: hit.context.map((c: Record<string, any>) => ({ ...c, id: undefined })),
    })),
  };
}

const WORD_SETS = [
  ['zephyr'],
  ['harbour'],
  ['lantern', 'harbour'],
  ['zephyr', 'lantern', 'paint'],
  // Over the budget in alpha: its newest matches only; and with a rarer word: that word only.
  ['note'],
  ['harbour', 'note'],
  // Repeated thousands of times within rows.
  ['ox'],
  ['ox', 'zephyr'],
  [PHRASE_WORD, 'zephyr'],
  ['jon', 'lantern'],
  ['absent'],
];

describe('keyword search confined to one namespace', () => {
  it('scores exactly as a store holding only that namespace: words, phrases, repeats, the row budget, windows', async () => {
    const { mixed, alone } = await buildStores();
    let found = 0;
    let windowsFound = 0;
    for (const terms of WORD_SETS) {
      for (const include_superseded of [false, true]) {
        const filters = { ...CONFINED, include_superseded };
        const query = { terms, limit: 100 };
        const got = await described(mixed, await mixed.runtime.store.searchKeyword({ ...query, filters }));
        const expected = await described(alone, await alone.runtime.store.searchKeyword({ ...query, filters: { ...filters, confined: false } }));
        expectSameRanking(got, expected, `keyword ${terms.join(' ')}${include_superseded ? ' with superseded' : ''}`);
        found += expected.length;
      }
      const windows = (linked: Linked, filters: StoreFilters) => linked.runtime.store.searchWindows({ terms, filters, limit: 100 });
      const got = await described(mixed, await windows(mixed, CONFINED));
      const expected = await described(alone, await windows(alone, { ...CONFINED, confined: false }));
      expectSameRanking(got, expected, `windows ${terms.join(' ')}`);
      windowsFound += expected.length;
    }
    expect(found).toBeGreaterThan(200);
    expect(windowsFound).toBeGreaterThan(10);
    // The paths compared above were taken: newest matches only, a word left out, counts left to the texts.
    const confinedTo = async (terms: string[]) => mixed.runtime.store.searchKeyword({ terms, filters: CONFINED, limit: 100 });
    const newest = await confinedTo(['note']);
    expect(newest.length).toBeGreaterThan(ROW_BUDGET);
    expect(new Set(newest.map((hit) => hit.score))).toEqual(new Set([1]));
    for (const terms of [['harbour', 'note'], ['ox'], [PHRASE_WORD, 'zephyr']]) expect((await confinedTo(terms)).every((hit) => hit.matched === undefined)).toBe(true);
    expect((await confinedTo(['zephyr', 'lantern'])).every((hit) => hit.matched !== undefined)).toBe(true);
    // The store-wide statistics differ: unconfined, the same namespace ranks otherwise.
    const unconfined = await described(mixed, await mixed.runtime.store.searchKeyword({ terms: ['zephyr', 'lantern'], filters: { ...CONFINED, confined: false }, limit: 100 }));
    const confined = await described(mixed, await mixed.runtime.store.searchKeyword({ terms: ['zephyr', 'lantern'], filters: CONFINED, limit: 100 }));
    expect(unconfined.map((hit) => hit.score)).not.toEqual(confined.map((hit) => hit.score));
  });

  it('a namespace-limited key gets from search_memory what a store of its namespace alone answers, in every mode', async () => {
    const { confined, alone } = await buildStores();
    const requests = [
      { query: 'zephyr' },
      { query: 'what did Jon say about the lantern?' },
      { query: 'harbour lantern paint', context: 1 },
      { query: 'zephyr harbour', layers: ['episodic'] },
      { query: 'zephyr', include_superseded: true, tags_any: ['t1'] },
      { query: `${PHRASE_WORD} parade` },
      { query: 'ox zephyr', limit: 3 },
      { query: 'kite land', limit: 20 },
      { query: 'harbour note' },
    ];
    for (const request of requests) {
      for (const mode of ['keyword', 'hybrid', 'vector']) {
        const args = { ...request, mode };
        const got = comparable(await callOk(confined, 'search_memory', args));
        const expected = comparable(await callOk(alone.client, 'search_memory', { ...args, namespace: 'alpha' }));
        expect(got, JSON.stringify(args)).toEqual(expected);
      }
    }
  });

  it('keeps its scores when another process has just written (the lengths held in memory follow its writes)', async () => {
    const { mixed, alone } = await buildStores();
    const before = await described(mixed, await mixed.runtime.store.searchKeyword({ terms: ['zephyr', 'lantern'], filters: CONFINED, limit: 100 }));
    const scoped = (linked: Linked) => linked.runtime.store.searchKeyword({ terms: ['zephyr', 'lantern'], filters: linked === mixed ? CONFINED : { ...CONFINED, confined: false }, limit: 100 });
    // Through another connection: this process's lengths follow it through the change log, and stay in use.
    const writer = await linkedServer({ dir: mixed.dir });
    cleanups.push(() => writer.close());
    await callOk(writer.client, 'remember', { memories: [{ content: 'zephyr lantern zephyr', namespace: 'beta' }] });
    const { scorers } = mixed.runtime.store as unknown as { scorers: Record<'search_fts', Bm25Scorer> };
    expect(scorers.search_fts.lengths.current()).toBe(true);
    const after = await described(mixed, await scoped(mixed));
    expectSameRanking(after, before, 'after another process wrote');
    expectSameRanking(after, await described(alone, await scoped(alone)), 'against the store of alpha alone');
  });

  it('follows this process\'s own writes to the namespace (added, forgotten, corrected, thread turns), and no other\'s', async () => {
    const { mixed } = await buildStores();
    const words = ['quasar', 'kite'];
    const confinedHits = async (store: SqliteStore | Linked['runtime']['store'], table: 'search_fts' | 'window_fts') =>
      described(
        mixed,
        await (table === 'search_fts'
          ? store.searchKeyword({ terms: words, filters: { ...CONFINED, include_superseded: true }, limit: 100 })
          : store.searchWindows({ terms: words, filters: CONFINED, limit: 100 })),
      );
    const inAlpha = (content: string, extra: Record<string, unknown> = {}) => ({ content, namespace: 'alpha', ...extra });
    const stored = (await callOk(mixed.client, 'remember', { memories: [inAlpha('quasar kite one'), inAlpha('a quasar'), inAlpha('kite and quasar')] })).stored.map(
      (m: { id: string }) => m.id,
    );
    await callOk(mixed.client, 'remember', { memories: [inAlpha('Any quasar kite?', { thread_id: 'chat', layer: 'episodic' })] });
    const before = await confinedHits(mixed.runtime.store, 'search_fts');
    const windowsBefore = await confinedHits(mixed.runtime.store, 'window_fts');
    expect(before.length).toBeGreaterThanOrEqual(4);
    // Another namespace changes nothing here.
    await callOk(mixed.client, 'remember', { memories: [{ content: 'quasar kite quasar', namespace: 'beta', thread_id: 'chat' }] });
    expectSameRanking(await confinedHits(mixed.runtime.store, 'search_fts'), before, 'after a write to another namespace');
    expectSameRanking(await confinedHits(mixed.runtime.store, 'window_fts'), windowsBefore, 'windows after a write to another namespace');
    // The namespace's own writes change its statistics, and are seen at once.
    await callOk(mixed.client, 'remember', { memories: [inAlpha('quasar kite')] });
    await callOk(mixed.client, 'forget', { ids: [stored[0]] });
    await callOk(mixed.client, 'remember', { ...inAlpha('quasar, corrected'), supersedes: stored[1] });
    await callOk(mixed.client, 'remember', { memories: [inAlpha('The kite landed.', { thread_id: 'chat', layer: 'episodic' })] });
    // A fresh connection has nothing kept from before: it lists and reads everything now.
    const fresh = SqliteStore.open({ file: join(mixed.dir, 'pinak.db'), busyTimeoutMs: 2000, keywordRowBudget: ROW_BUDGET });
    cleanups.push(() => fresh.close());
    for (const table of ['search_fts', 'window_fts'] as const) {
      expectSameRanking(await confinedHits(mixed.runtime.store, table), await confinedHits(fresh, table), `${table} after writes`);
    }
    expect((await confinedHits(mixed.runtime.store, 'search_fts')).map((hit) => hit.score)).not.toEqual(before.map((hit) => hit.score));
  });

  it('answers alike while the vector index is still loading: stored vectors of the namespace are scanned, no note', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const building = await linkedServer({ dir, embedder: true });
    for (const call of alphaCalls()) await callOk(building.client, call.tool, call.args);
    await writeOthers(building.client, 0);
    await building.close();

    // The same data directory again, with an index whose opening waits until released.
    const store = SqliteStore.open({ file: join(dir, 'pinak.db'), busyTimeoutMs: 2000 });
    const embedder = new HashEmbedder();
    const logger = createLogger('silent');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const runtime = assembleRuntime({
      store,
      logger,
      embedder,
      settings: { namespace: 'default', maxContentBytes: 32 * 1024, maxMetadataBytes: 16 * 1024 },
      fusion: { keywordWeight: 1, vectorWeight: 1, rrfK: 60 },
      vectorIndex: async () => {
        await held;
        return VectorIndex.open({
          dir: join(dir, 'vectors'),
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
    cleanups.push(() => runtime.close());
    const confined = await clientFor(runtime, ALPHA_READER);
    const local = await clientFor(runtime, LOCAL_PRINCIPAL);
    const requests = ['zephyr kite', 'lantern paint', 'red gold'].flatMap((query) => ['hybrid', 'vector'].map((mode) => ({ query, mode, limit: 10 })));
    const ask = () => Promise.all(requests.map((args) => callOk(confined, 'search_memory', args)));

    expect(runtime.memory.vectors!.state().state).toBe('loading');
    const during = await ask();
    // A key without a namespace limit is answered from keywords meanwhile, and told so.
    expect((await callOk(local, 'search_memory', { query: 'zephyr kite', namespace: 'alpha' })).note).toMatch(/still loading/);
    release();
    await runtime.memory.vectors!.opened();
    expect(runtime.memory.vectors!.state().state).toBe('ready');
    expect(await ask()).toEqual(during);
    for (const answer of during) {
      expect(answer.note).toBeUndefined();
      expect(answer.mode).not.toBe('keyword');
      expect(answer.hits.some((hit: { why: { vector_rank: number | null } }) => hit.why.vector_rank !== null)).toBe(true);
    }
  });
});
