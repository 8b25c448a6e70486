import { describe, expect, it } from 'vitest';
import { fuseLegs, reciprocalRankFusion, TIE_BREAK_DEPTH, tieBreakFusion, tieBreakHead } from '../../src/memory/fusion.js';
import { DEFAULT_FUSION, fusionFor, modelFamily } from '../../src/memory/fusion-defaults.js';

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

describe('tieBreakFusion', () => {
  const keyword = (...scores: number[]) => scores.map((score, i) => ({ id: i + 1, score }));
  const order = (hits: ReturnType<typeof tieBreakFusion>) => hits.map((hit) => hit.id);

  it('lets the vector leg reorder only near ties among the keyword hits', () => {
    // Hits 1 and 2 are 2 % apart, hit 3 far below: the vector leg (weight 0.05) prefers 2 and 3.
    const fused = tieBreakFusion(keyword(10, 9.8, 5), [{ id: 3, score: 0.9 }, { id: 2, score: 0.9 }, { id: 1, score: 0.3 }], 1, 0.05, 60);
    expect(order(fused)).toEqual([2, 1, 3]);
    expect(fused[0]!.ranks).toEqual([2, 2]);
    // The similarities differ by 2/3 of the best, worth 0.033: a keyword gap of 3 % is bridged, one of 4 % is not.
    expect(order(tieBreakFusion(keyword(10, 9.7), [{ id: 2, score: 0.9 }, { id: 1, score: 0.3 }], 1, 0.05, 60))).toEqual([2, 1]);
    expect(order(tieBreakFusion(keyword(10, 9.6), [{ id: 2, score: 0.9 }, { id: 1, score: 0.3 }], 1, 0.05, 60))).toEqual([1, 2]);
  });

  it('scores each hit by its place as rank fusion does, 1 / (k + place)', () => {
    const fused = tieBreakFusion(keyword(10, 10, 10, 10), [{ id: 3, score: 0.8 }, { id: 2, score: 0.4 }, { id: 1, score: 0.2 }, { id: 9, score: 0.1 }], 1, 0.05, 60);
    // Equal keyword scores go in order of similarity; the memory only the vector leg found comes last.
    expect(order(fused)).toEqual([3, 2, 1, 4, 9]);
    expect(fused.map((hit) => hit.score)).toEqual([1 / 61, 1 / 62, 1 / 63, 1 / 64, 1 / 65]);
  });

  it(`reorders only the first ${TIE_BREAK_DEPTH} keyword hits, so a search's first hits do not depend on its limit`, () => {
    const scores = Array.from({ length: TIE_BREAK_DEPTH + 5 }, () => 1);
    const last = TIE_BREAK_DEPTH + 5;
    const fused = tieBreakFusion(keyword(...scores), [{ id: last, score: 0.9 }, { id: TIE_BREAK_DEPTH, score: 0.8 }], 1, 0.05, 60);
    expect(fused[0]!.id).toBe(TIE_BREAK_DEPTH);
    expect(fused.at(-1)!.id).toBe(last);
    expect(fused.at(-1)!.ranks).toEqual([last, 1]);
  });

  it('puts hits only the vector leg found after every keyword hit, best similarity first', () => {
    const fused = tieBreakFusion(keyword(4, 2), [{ id: 8, score: 0.9 }, { id: 1, score: 0.8 }, { id: 9, score: 0.45 }], 1, 0.05, 60);
    expect(order(fused)).toEqual([1, 2, 8, 9]);
    expect(fused[2]!.ranks).toEqual([null, 1]);
  });

  it('answers by similarity alone when no memory shares a word with the query', () => {
    const fused = tieBreakFusion([], [{ id: 7, score: 0.6 }, { id: 5, score: 0.4 }], 1, 0.05, 60);
    expect(fused.map((hit) => [hit.id, hit.score])).toEqual([[7, 1 / 61], [5, 1 / 62]]);
    expect(tieBreakFusion([], [], 1, 0.05, 60)).toEqual([]);
  });

  it('keeps the keyword order when the vector leg found nothing, or weighs nothing', () => {
    expect(order(tieBreakFusion(keyword(3, 2, 1), [], 1, 0.05, 60))).toEqual([1, 2, 3]);
    expect(order(tieBreakFusion(keyword(3, 3, 3), [{ id: 3, score: 0.9 }], 1, 0, 60))).toEqual([1, 2, 3]);
  });
});

describe('tieBreakFusion over the similarities of the keyword head alone (no neighbour search)', () => {
  const keyword = (...scores: number[]) => scores.map((score, i) => ({ id: i + 1, score }));

  it('measures closeness against the best similarity among those hits, and gives no hit a vector rank', () => {
    // Hit 2's similarity is the best of the head: closeness 1 against hit 1's 1/3, worth 0.033, which bridges a 3 % keyword gap.
    const fused = tieBreakFusion(keyword(10, 9.7, 5), [{ id: 2, score: 0.3 }, { id: 1, score: 0.1 }], 1, 0.05, 60, false);
    expect(fused.map((hit) => hit.id)).toEqual([2, 1, 3]);
    expect(fused.map((hit) => hit.ranks)).toEqual([[2, null], [1, null], [3, null]]);
    expect(fused.map((hit) => hit.score)).toEqual([1 / 61, 1 / 62, 1 / 63]);
  });

  it('a hit with no stored vector counts as similarity 0, as one the vector leg did not find', () => {
    expect(tieBreakFusion(keyword(10, 10), [{ id: 2, score: 0.2 }], 1, 0.05, 60, false).map((hit) => hit.id)).toEqual([2, 1]);
    expect(tieBreakFusion(keyword(10, 10), [], 1, 0.05, 60, false).map((hit) => hit.id)).toEqual([1, 2]);
  });
});

describe('tieBreakHead', () => {
  const tieBreak = { method: 'tie-break', keywordWeight: 1, vectorWeight: 0.05, rrfK: 60 } as const;
  const hits = (n: number) => Array.from({ length: n }, (_, i) => ({ doc_id: 100 + i }));

  it(`asks for the similarities of the first ${TIE_BREAK_DEPTH} keyword hits when the keyword leg fills the limit`, () => {
    expect(tieBreakHead(tieBreak, hits(10), 10)).toEqual(hits(10).map((hit) => hit.doc_id));
    expect(tieBreakHead(tieBreak, hits(50), 20)).toEqual(hits(TIE_BREAK_DEPTH).map((hit) => hit.doc_id));
    // A limit beyond the depth: the hits below it keep their keyword order, vector-only hits still cannot show.
    expect(tieBreakHead(tieBreak, hits(60), 50)).toHaveLength(TIE_BREAK_DEPTH);
  });

  it('asks for the nearest neighbours when they could fill the rest of the limit, or when fusion is by rank', () => {
    expect(tieBreakHead(tieBreak, hits(9), 10)).toBeNull();
    expect(tieBreakHead(tieBreak, [], 10)).toBeNull();
    expect(tieBreakHead({ method: 'rrf', keywordWeight: 1, vectorWeight: 1, rrfK: 60 }, hits(50), 10)).toBeNull();
    expect(tieBreakHead({ keywordWeight: 1, vectorWeight: 1, rrfK: 60 }, hits(50), 10)).toBeNull();
  });
});

describe('fuseLegs', () => {
  const keyword = [{ doc_id: 1, score: 10 }, { doc_id: 2, score: 9.9 }];
  const vector = [{ doc_id: 2, similarity: 0.8 }, { doc_id: 3, similarity: 0.7 }];

  it('fuses by rank unless the settings ask for a tie break', () => {
    // By rank, a vector leg's first place lifts the keyword leg's second above its first however far apart their scores (60 : 1), or not at all (200 : 1).
    expect(fuseLegs({ keywordWeight: 60, vectorWeight: 1, rrfK: 60 }, [{ doc_id: 1, score: 10 }, { doc_id: 2, score: 1 }], vector).map((hit) => hit.id)).toEqual([2, 1, 3]);
    expect(fuseLegs({ keywordWeight: 200, vectorWeight: 1, rrfK: 60 }, keyword, vector).map((hit) => hit.id)).toEqual([1, 2, 3]);
    expect(fuseLegs({ keywordWeight: 1, vectorWeight: 1, rrfK: 60 }, keyword, vector).map((hit) => hit.id)).toEqual([2, 1, 3]);
    expect(fuseLegs({ method: 'tie-break', keywordWeight: 1, vectorWeight: 0.05, rrfK: 60 }, keyword, vector).map((hit) => hit.id)).toEqual([2, 1, 3]);
    expect(fuseLegs({ method: 'tie-break', keywordWeight: 1, vectorWeight: 0, rrfK: 60 }, keyword, vector).map((hit) => hit.id)).toEqual([1, 2, 3]);
  });

  it('passes on that the vector hits are only the keyword head\'s similarities', () => {
    const head = fuseLegs({ method: 'tie-break', keywordWeight: 1, vectorWeight: 0.05, rrfK: 60 }, keyword, [{ doc_id: 2, similarity: 0.8 }], false);
    expect(head.map((hit) => [hit.id, hit.ranks])).toEqual([[2, [2, null]], [1, [1, null]]]);
  });
});

describe('fusion per model family', () => {
  it('the bundled static vectors break ties; sentence-transformers and services vote by rank alike', () => {
    expect(fusionFor('static')).toEqual({ method: 'tie-break', keywordWeight: 1, vectorWeight: 0.05, rrfK: 60 });
    expect(fusionFor('sentence-transformer')).toEqual({ method: 'rrf', keywordWeight: 1, vectorWeight: 1, rrfK: 60 });
    expect(fusionFor('service')).toEqual(DEFAULT_FUSION.service);
  });

  it('the family follows the active model', () => {
    expect(modelFamily({ service: false, bundled: true })).toBe('static');
    expect(modelFamily({ service: false, bundled: false })).toBe('sentence-transformer');
    expect(modelFamily({ service: true, bundled: false })).toBe('service');
  });

  it('each setting a user gives replaces the family default alone', () => {
    expect(fusionFor('static', { vectorWeight: 0.1 })).toEqual({ method: 'tie-break', keywordWeight: 1, vectorWeight: 0.1, rrfK: 60 });
    expect(fusionFor('static', { method: 'rrf', keywordWeight: 60, vectorWeight: 1 })).toEqual({ method: 'rrf', keywordWeight: 60, vectorWeight: 1, rrfK: 60 });
    expect(fusionFor('service', { rrfK: 10, method: undefined })).toEqual({ method: 'rrf', keywordWeight: 1, vectorWeight: 1, rrfK: 10 });
  });
});
