import { describe, expect, it } from 'vitest';
import { rewardCoverage } from '../../src/memory/soft-and.js';
import type { MemoryStore } from '../../src/store/store.js';

const texts: Record<number, string> = { 1: 'a zebra crossed', 2: 'apples, bananas and cherries for lunch', 3: 'nothing relevant' };
const store = {
  docTexts: async (ids: readonly number[]) => new Map(ids.map((id) => [id, texts[id] ?? ''])),
} as unknown as MemoryStore;

describe('rewardCoverage (soft AND)', () => {
  it('lifts a record containing most query words above one matching a single rare word', async () => {
    const hits = [{ doc_id: 1, score: 4.5 }, { doc_id: 2, score: 3 }];
    const ranked = await rewardCoverage(store, hits, ['apple', 'banana', 'cherries', 'zebra'], 2);
    expect(ranked.map((hit) => hit.doc_id)).toEqual([2, 1]);
    expect(ranked[0]!.score).toBeCloseTo(3 * (1 + (2 * 3) / 4));
    expect(ranked[1]!.score).toBeCloseTo(4.5 * (1 + (2 * 1) / 4));
  });

  it('changes nothing with weight 0 or a one-word query', async () => {
    const hits = [{ doc_id: 1, score: 5 }, { doc_id: 2, score: 3 }];
    expect(await rewardCoverage(store, hits, ['apple', 'zebra'], 0)).toEqual(hits);
    expect(await rewardCoverage(store, hits, ['zebra'], 2)).toEqual(hits);
  });
});
