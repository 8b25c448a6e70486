import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bm25Scorer } from '../../src/store/sqlite/bm25.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StoreFilters } from '../../src/store/store.js';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

// A store of 600 status reports and two zeppelin notes, searched under a budget of 500 scored rows.
const REPORTS = 600;
let tight: Linked;
let roomy: Linked;
let reports: string[];
let zeppelin: string[];
let roomyZeppelin: string[];

async function fill(linked: Linked): Promise<{ reports: string[]; zeppelin: string[] }> {
  const stored: string[] = [];
  for (let b = 0; b < REPORTS / 100; b++) {
    const memories = Array.from({ length: 100 }, (_, i) => ({ content: `status report number ${b * 100 + i}` }));
    stored.push(...(await callOk(linked.client, 'remember', { memories })).stored.map((m: { id: string }) => m.id));
  }
  const notes = [{ content: 'zeppelin maintenance log' }, { content: 'status of the zeppelin hangar' }];
  return { reports: stored, zeppelin: (await callOk(linked.client, 'remember', { memories: notes })).stored.map((m: { id: string }) => m.id) };
}

beforeAll(async () => {
  tight = await linkedServer({ keywordRowBudget: 500 });
  roomy = await linkedServer();
  ({ reports, zeppelin } = await fill(tight));
  roomyZeppelin = (await fill(roomy)).zeppelin;
}, 60_000);
afterAll(async () => {
  await tight.close();
  await roomy.close();
});

const search = async (linked: Linked, query: string) =>
  (await callOk(linked.client, 'search_memory', { query, mode: 'keyword', limit: 10 })).hits.map((h: { id: string }) => h.id) as string[];

describe('keyword search within a row budget', () => {
  it('leaves out the commonest word when the words together match more rows than the budget', async () => {
    // "status" is in 601 records: matching it too would score more than 500 rows.
    const hits = await search(tight, 'status zeppelin');
    expect(hits.sort()).toEqual([...zeppelin].sort());
    // The word left out still counts in the soft-AND reward: the note holding both words comes first.
    expect((await search(tight, 'status zeppelin'))[0]).toBe(zeppelin[1]);
  });

  it('returns the newest matches when even the rarest word is over the budget', async () => {
    const hits = await search(tight, 'status report');
    // Every report holds both words: soft AND cannot tell them apart, so newest first.
    expect(hits).toEqual(reports.slice(-10).reverse());
  });

  it('matches every word while the store is smaller than the budget', async () => {
    const hits = await search(roomy, 'status zeppelin');
    expect(hits).toHaveLength(10);
    // Both notes, and reports found by "status" alone.
    expect(hits[0]).toBe(roomyZeppelin[1]);
    expect(hits.filter((id) => roomyZeppelin.includes(id))).toHaveLength(2);
    expect(hits.filter((id) => !roomyZeppelin.includes(id))).toHaveLength(8);
  });
});

describe('matched-word counts from a keyword search', () => {
  const filters: StoreFilters = { namespace: null, time_field: 'occurred_at', include_superseded: false };

  /** Search once so the row lengths load, then wait until keyword search is scored in memory. */
  async function scoredInMemory(linked: Linked): Promise<SqliteStore> {
    const store = linked.runtime.store as SqliteStore;
    await store.searchKeyword({ terms: ['status'], filters, limit: 1 });
    const { scorers } = store as unknown as { scorers: Record<'search_fts', Bm25Scorer> };
    for (let i = 0; i < 100 && !scorers.search_fts.lengths.ready; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(scorers.search_fts.lengths.ready).toBe(true);
    return store;
  }

  it('come with the hits when every word was scored, and not when the budget left one out', async () => {
    const all = await (await scoredInMemory(roomy)).searchKeyword({ terms: ['status', 'zeppelin'], filters, limit: 10 });
    // One note holds both words; the other note and the reports one each.
    expect(all.filter((hit) => hit.matched === 2)).toHaveLength(1);
    expect(all.filter((hit) => hit.matched === 1)).toHaveLength(all.length - 1);

    const partial = await (await scoredInMemory(tight)).searchKeyword({ terms: ['status', 'zeppelin'], filters, limit: 10 });
    expect(partial).toHaveLength(2);
    expect(partial.every((hit) => hit.matched === undefined)).toBe(true);
    // So soft AND reads the texts, and the note holding both words still comes first.
    expect((await search(tight, 'status zeppelin'))[0]).toBe(zeppelin[1]);
  });
});
