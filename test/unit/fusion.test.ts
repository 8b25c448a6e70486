import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../../src/memory/fusion.js';

describe('reciprocalRankFusion', () => {
  it('sums weight / (k + rank) over the lists', () => {
    const fused = reciprocalRankFusion([{ weight: 2, ids: [10, 20] }, { weight: 1, ids: [20, 30] }], 60);
    const score = Object.fromEntries(fused.map((hit) => [hit.id, hit.score]));
    expect(score[10]).toBeCloseTo(2 / 61);
    expect(score[20]).toBeCloseTo(2 / 62 + 1 / 61);
    expect(score[30]).toBeCloseTo(1 / 62);
    expect(fused.map((hit) => hit.id)).toEqual([20, 10, 30]);
    expect(fused[0]!.ranks).toEqual([2, 1]);
    expect(fused[2]!.ranks).toEqual([null, 2]);
  });

  it('lets a heavier list win ties it would lose on equal weights', () => {
    const equal = reciprocalRankFusion([{ weight: 1, ids: [1, 2] }, { weight: 1, ids: [2, 1] }], 60);
    expect(equal[0]!.score).toBeCloseTo(equal[1]!.score);
    const weighted = reciprocalRankFusion([{ weight: 6, ids: [1, 2] }, { weight: 1, ids: [2, 1] }], 60);
    expect(weighted.map((hit) => hit.id)).toEqual([1, 2]);
  });

  it('breaks exact ties by the first list, and counts an id once per list', () => {
    const fused = reciprocalRankFusion([{ weight: 1, ids: [5, 6, 5] }, { weight: 1, ids: [] }], 60);
    expect(fused.map((hit) => hit.id)).toEqual([5, 6]);
    expect(fused[0]!.score).toBeCloseTo(1 / 61);
  });

  it('returns nothing for empty lists', () => {
    expect(reciprocalRankFusion([{ weight: 1, ids: [] }], 60)).toEqual([]);
  });
});
