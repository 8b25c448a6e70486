import type { FusionSettings } from './context.js';

/** One ranked list to fuse, best first, with the weight of its source. */
export interface RankedList {
  weight: number;
  ids: readonly number[];
}

export interface FusedHit {
  id: number;
  score: number;
  /** 1-based rank in each input list, null where absent. */
  ranks: Array<number | null>;
}

/**
 * Weighted reciprocal rank fusion: score(d) = Σ_lists weight / (k + rank(d)).
 * Weights let a weak leg add recall without outvoting a strong one; ties keep
 * the order of the first list that has the item.
 */
export function reciprocalRankFusion(lists: readonly RankedList[], k: number): FusedHit[] {
  const hits = new Map<number, FusedHit>();
  lists.forEach((list, listIndex) => {
    list.ids.forEach((id, position) => {
      let hit = hits.get(id);
      if (!hit) {
        hit = { id, score: 0, ranks: lists.map(() => null) };
        hits.set(id, hit);
      }
      if (hit.ranks[listIndex] !== null) return;
      hit.ranks[listIndex] = position + 1;
      hit.score += list.weight / (k + position + 1);
    });
  });
  const firstRank = (hit: FusedHit): number => {
    for (const rank of hit.ranks) if (rank !== null) return rank;
    return Number.POSITIVE_INFINITY;
  };
  return [...hits.values()].sort((a, b) => b.score - a.score || firstRank(a) - firstRank(b));
}

/** A hit of one leg with the score that leg gave it (BM25 after the keyword pipeline, or cosine similarity). */
export interface ScoredId {
  id: number;
  score: number;
}

/** How far down the keyword ranking the vector leg may reorder hits: a fixed depth, so a search's first hits do not depend on its limit. */
export const TIE_BREAK_DEPTH = 20;

/**
 * The vector leg as a tie breaker for a weak embedder. The first
 * TIE_BREAK_DEPTH keyword hits are put in order of
 *   keywordWeight × score / best score + vectorWeight × similarity / best similarity
 * so with weights 1 and 0.05 a hit passes only hits whose keyword score is
 * at most 5 % of the best one above its own. Keyword hits further down keep
 * their order; hits only the vector leg found come last, best similarity
 * first, and lead when no memory shares a word with the query.
 *
 * Each hit then scores 1 / (k + its place), as in rank fusion: what reads
 * scores after fusion (a lesson's track record moves a score by at most 3 %,
 * about two places near the top) sees the scale it always did. Each hit's
 * rank in either leg is kept, as reciprocalRankFusion gives it.
 *
 * `vector` is either the vector leg's nearest neighbours (`ranked`), or only
 * the similarities of the first keyword hits (see tieBreakHead): then no hit
 * has a vector rank, and closeness is measured against the best of them.
 */
export function tieBreakFusion(keyword: readonly ScoredId[], vector: readonly ScoredId[], keywordWeight: number, vectorWeight: number, k: number, ranked = true): FusedHit[] {
  const vectorRank = new Map(ranked ? vector.map((hit, i) => [hit.id, i + 1]) : []);
  const keywordRank = new Map(keyword.map((hit, i) => [hit.id, i + 1]));
  const bestSimilarity = vector[0]?.score ?? 0;
  const similarity = new Map(vector.map((hit) => [hit.id, hit.score]));
  // The vector leg returns only positive similarities, best first (the best of the keyword head's, when not ranked).
  const closeness = (id: number): number => (bestSimilarity > 0 ? (similarity.get(id) ?? 0) / bestSimilarity : 0);
  const best = keyword[0]?.score ?? 0;
  // BM25 scores are positive; a degenerate best (0) leaves the order to the vector leg.
  const share = (score: number): number => (best > 0 ? score / best : 0);
  const head = keyword.slice(0, TIE_BREAK_DEPTH).map((hit, i) => ({ id: hit.id, i, score: keywordWeight * share(hit.score) + vectorWeight * closeness(hit.id) }));
  head.sort((a, b) => b.score - a.score || a.i - b.i);
  const order = [...head.map((hit) => hit.id), ...keyword.slice(TIE_BREAK_DEPTH).map((hit) => hit.id), ...vector.filter((hit) => !keywordRank.has(hit.id)).map((hit) => hit.id)];
  return order.map((id, place) => ({ id, score: 1 / (k + place + 1), ranks: [keywordRank.get(id) ?? null, vectorRank.get(id) ?? null] }));
}

/**
 * The records whose similarities are all a tie-break search needs, or null
 * when it needs the vector leg's nearest neighbours. Hits only the vector leg
 * finds come after every keyword hit, so when the keyword leg fills the
 * request's limit they cannot be shown: the vector leg only reorders the
 * first TIE_BREAK_DEPTH keyword hits, and their similarities alone (read from
 * their stored vectors, no neighbour search) decide that. Rank fusion gives
 * the vector leg's ranking a vote, so it always needs the neighbours.
 */
export function tieBreakHead(fusion: FusionSettings, keyword: ReadonlyArray<{ doc_id: number }>, limit: number): number[] | null {
  if (fusion.method !== 'tie-break' || keyword.length < limit) return null;
  return keyword.slice(0, TIE_BREAK_DEPTH).map((hit) => hit.doc_id);
}

/**
 * Join the keyword leg's hits and the vector leg's by the configured method.
 * `ranked` false: `vector` holds only the similarities of tieBreakHead's records.
 */
export function fuseLegs(
  fusion: FusionSettings,
  keyword: ReadonlyArray<{ doc_id: number; score: number }>,
  vector: ReadonlyArray<{ doc_id: number; similarity: number }>,
  ranked = true,
): FusedHit[] {
  if (fusion.method === 'tie-break') {
    return tieBreakFusion(
      keyword.map((hit) => ({ id: hit.doc_id, score: hit.score })),
      vector.map((hit) => ({ id: hit.doc_id, score: hit.similarity })),
      fusion.keywordWeight,
      fusion.vectorWeight,
      fusion.rrfK,
      ranked,
    );
  }
  return reciprocalRankFusion(
    [
      { weight: fusion.keywordWeight, ids: keyword.map((hit) => hit.doc_id) },
      { weight: fusion.vectorWeight, ids: vector.map((hit) => hit.doc_id) },
    ],
    fusion.rrfK,
  );
}
