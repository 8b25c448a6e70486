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
