import { describe, expect, it } from 'vitest';
import { rewardCoverage } from '../../src/memory/soft-and.js';
import { boostNamedSpeakers } from '../../src/memory/speaker-boost.js';
import type { KeywordHit, MemoryStore } from '../../src/store/store.js';

/** A store answering only what these signals read, counting the reads. */
function fakeStore(texts: Record<number, string>, speakers: Record<number, string>, names: string[]) {
  const reads = { texts: 0, speakers: 0, names: [] as number[] };
  const store = {
    async docTexts(ids: readonly number[]) {
      reads.texts++;
      return new Map(ids.filter((id) => texts[id] !== undefined).map((id) => [id, texts[id]!]));
    },
    async docSpeakers(ids: readonly number[]) {
      reads.speakers++;
      return new Map(ids.filter((id) => speakers[id] !== undefined).map((id) => [id, speakers[id]!]));
    },
    async speakerNames(after: number) {
      reads.names.push(after);
      return { names: names.slice(after), through: names.length };
    },
  };
  return { store: store as unknown as MemoryStore, reads, names };
}

describe('soft AND', () => {
  it('uses the counts the keyword search gave, without reading texts', async () => {
    const { store, reads } = fakeStore({}, {}, []);
    const hits: KeywordHit[] = [
      { doc_id: 1, score: 1.2, matched: 1 },
      { doc_id: 2, score: 1.0, matched: 3 },
    ];
    const rewarded = await rewardCoverage(store, hits, ['red', 'night', 'ferry'], 2);
    expect(reads.texts).toBe(0);
    // 1.0 × (1 + 2 × 3/3) = 3 against 1.2 × (1 + 2 × 1/3) = 2.
    expect(rewarded.map((hit) => hit.doc_id)).toEqual([2, 1]);
    expect(rewarded[0]!.score).toBeCloseTo(3);
    expect(rewarded[1]!.score).toBeCloseTo(2);
  });

  it('reads and matches the texts when any hit lacks a count', async () => {
    const { store, reads } = fakeStore({ 1: 'the red ferry', 2: 'a night ferry, red sky' }, {}, []);
    const hits: KeywordHit[] = [
      { doc_id: 1, score: 1.2, matched: 3 },
      { doc_id: 2, score: 1.0 },
    ];
    const rewarded = await rewardCoverage(store, hits, ['red', 'night', 'ferry'], 2);
    expect(reads.texts).toBe(1);
    expect(rewarded.map((hit) => hit.doc_id)).toEqual([2, 1]);
    expect(rewarded[1]!.score).toBeCloseTo(1.2 * (1 + (2 * 2) / 3));
  });
});

describe('speaker boost', () => {
  const hits: KeywordHit[] = [
    { doc_id: 1, score: 1.05 },
    { doc_id: 2, score: 1.0 },
  ];

  it('reads no hit speakers when the query names nobody who speaks in the store', async () => {
    const { store, reads } = fakeStore({}, { 1: 'Ana', 2: 'Ben Okafor' }, ['Ana', 'Ben Okafor']);
    expect(await boostNamedSpeakers(store, hits, ['ferry', 'night'], 0.1)).toEqual(hits);
    expect(reads.speakers).toBe(0);
  });

  it('boosts the hits whose speaker the query names, by any word of the name', async () => {
    const { store, reads } = fakeStore({}, { 1: 'Ana', 2: 'Ben Okafor' }, ['Ana', 'Ben Okafor']);
    const boosted = await boostNamedSpeakers(store, hits, ['okafor', 'ferry'], 0.1);
    expect(reads.speakers).toBe(1);
    expect(boosted.map((hit) => hit.doc_id)).toEqual([2, 1]);
    expect(boosted[0]!.score).toBeCloseTo(1.1);
  });

  it('reads only the names first seen since its last look', async () => {
    const { store, reads, names } = fakeStore({}, { 1: 'Ana', 2: 'Cleo' }, ['Ana']);
    expect((await boostNamedSpeakers(store, hits, ['cleo'], 0.1)).map((hit) => hit.doc_id)).toEqual([1, 2]);
    names.push('Cleo');
    expect((await boostNamedSpeakers(store, hits, ['cleo'], 0.1)).map((hit) => hit.doc_id)).toEqual([2, 1]);
    expect(reads.names).toEqual([0, 1]);
  });
});
