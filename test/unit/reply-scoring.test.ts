import { describe, expect, it } from 'vitest';
import { creditReplies } from '../../src/memory/reply-scoring.js';
import type { MemoryStore, StoreFilters } from '../../src/store/store.js';

// One thread, docs 1–5 in order; doc 6 is outside any thread.
const texts: Record<number, string> = {
  1: 'we went to the lake',
  2: 'What gave you the idea for the colours?',
  3: 'I just love them, they make people smile',
  4: 'nice! and the glaze?',
  5: 'a friend showed me',
  6: 'where is the key?',
};
const thread = [1, 2, 3, 4, 5];
const filters: StoreFilters = { namespace: null, time_field: 'occurred_at', include_superseded: false };

function fakeStore(hidden: ReadonlySet<number> = new Set()): MemoryStore {
  return {
    docTexts: async (ids: readonly number[]) => new Map(ids.map((id) => [id, texts[id] ?? ''])),
    threadNeighbours: async (ids: readonly number[], radius: number) =>
      ids.flatMap((center) => {
        const at = thread.indexOf(center);
        if (at < 0) return [];
        return thread
          .map((doc_id, i) => ({ center, doc_id, offset: i - at }))
          .filter((n) => n.offset !== 0 && Math.abs(n.offset) <= radius);
      }),
    admit: async (ids: readonly number[]) => new Set(ids.filter((id) => !hidden.has(id))),
  } as unknown as MemoryStore;
}

describe('creditReplies', () => {
  it('gives the turn after a matching question a share of the question\'s own score', async () => {
    const own = [{ doc_id: 2, score: 10 }, { doc_id: 1, score: 4 }];
    const ranked = [{ doc_id: 2, score: 30 }, { doc_id: 3, score: 22 }, { doc_id: 1, score: 20 }];
    const out = await creditReplies(fakeStore(), own, ranked, filters, 1);
    expect(out).toEqual([{ doc_id: 3, score: 32 }, { doc_id: 2, score: 30 }, { doc_id: 1, score: 20 }]);
  });

  it('lets a question bring in an answer that was not ranked, if it passes the filters', async () => {
    const own = [{ doc_id: 4, score: 6 }];
    const ranked = [{ doc_id: 4, score: 6 }];
    expect(await creditReplies(fakeStore(), own, ranked, filters, 0.5)).toEqual([{ doc_id: 4, score: 6 }, { doc_id: 5, score: 3 }]);
    expect(await creditReplies(fakeStore(new Set([5])), own, ranked, filters, 0.5)).toEqual(ranked);
  });

  it('passes nothing from statements, backwards, or outside threads, and nothing with share 0', async () => {
    const statements = [{ doc_id: 1, score: 5 }, { doc_id: 3, score: 4 }];
    expect(await creditReplies(fakeStore(), statements, statements, filters, 1)).toEqual(statements);
    const loose = [{ doc_id: 6, score: 5 }];
    expect(await creditReplies(fakeStore(), loose, loose, filters, 1)).toEqual(loose);
    const question = [{ doc_id: 2, score: 10 }, { doc_id: 3, score: 1 }];
    expect(await creditReplies(fakeStore(), question, question, filters, 0)).toEqual(question);
  });
});
