import type { KeywordHit, MemoryStore, StoreFilters } from '../store/store.js';

const MAX_SEEDS = 30;

/** How much of a hit's score its thread neighbours receive: share × decay^(distance−1), up to `radius` away. */
export interface ContextScoring {
  readonly share: number;
  readonly decay: number;
  readonly radius: number;
  /** Weight of the best thread-window score added to each memory (see window-scoring.ts); 0 turns windows off. */
  readonly window: number;
  /** Share of a matching question's own score given to the turn after it (see reply-scoring.ts); 0 turns it off. */
  readonly reply: number;
}

/**
 * Spread a decaying share of each keyword hit's score to its neighbours in
 * the same thread. In conversations the evidence is often next to the words
 * that match — the answer after the question, the photo before "I painted
 * that" — so a turn is scored from its own text and from its neighbourhood.
 * Memories outside threads keep their own score; neighbours must pass the
 * same filters as hits.
 */
export async function spreadToNeighbours(store: MemoryStore, hits: readonly KeywordHit[], filters: StoreFilters, scoring: ContextScoring): Promise<KeywordHit[]> {
  if (scoring.share <= 0 || scoring.radius < 1 || hits.length === 0) return [...hits];
  const own = new Map(hits.map((hit) => [hit.doc_id, hit.score]));
  // Only the best hits lift neighbours: one from far down the list rarely reaches the top, and each costs lookups.
  const seeds = hits.slice(0, MAX_SEEDS).map((hit) => hit.doc_id);
  const neighbours = await store.threadNeighbours(seeds, scoring.radius);
  if (neighbours.length === 0) return [...hits];
  const outside = [...new Set(neighbours.map((n) => n.doc_id).filter((id) => !own.has(id)))];
  const admitted = await store.admit(outside, filters);
  const score = new Map(own);
  for (const { center, doc_id, offset } of neighbours) {
    if (!own.has(doc_id) && !admitted.has(doc_id)) continue;
    const gain = scoring.share * scoring.decay ** (Math.abs(offset) - 1) * own.get(center)!;
    score.set(doc_id, (score.get(doc_id) ?? 0) + gain);
  }
  return [...score.entries()].map(([doc_id, value]) => ({ doc_id, score: value })).sort((a, b) => b.score - a.score);
}
