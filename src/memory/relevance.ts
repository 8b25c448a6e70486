import type { RatedHit, Relevance, SearchHit } from '../domain/search.js';

/**
 * A vector-only hit this far below the best similarity of a result (under
 * 0.6 × the best) is left out of the text: on the LoCoMo dev and validation
 * splits with the bundled model, 99 % of the evidence turns a vector search
 * returned sat above 0.65 × the best, while for questions about things never
 * stored a third of the hits fell below 0.6 ×.
 */
const FAR_BELOW = 0.4;

/** How many of the query's words a hit must hold to be a strong match: half of them, and two when the query has two or more. */
export const wordsForStrong = (terms: number): number => Math.max(Math.min(2, terms), Math.ceil(terms / 2));

/**
 * How well a hit matches: by the query words it holds itself (strong or
 * weak), else by how it was found (context: the keyword leg found it through
 * its thread neighbours or its date; vector-only: it is close in meaning
 * only). Null when there was nothing to match (an empty query).
 */
export function relevanceOf(hit: SearchHit, terms: number): Relevance | null {
  if (terms === 0) return null;
  const held = hit.why.matched_terms.length;
  if (held >= wordsForStrong(terms)) return 'strong';
  if (held > 0) return 'weak';
  return hit.why.keyword_rank !== null ? 'context' : 'vector-only';
}

/** Rate every hit of a result (`terms`: the words searched for; none for an empty query). */
export function rateHits(hits: readonly SearchHit[], terms: readonly string[], mode: string): RatedHit[] {
  return hits.map((hit) => ({ ...hit, relevance: mode === 'recent' ? null : relevanceOf(hit, terms.length) }));
}

/**
 * The hits worth a model's reading: vector-only hits far less similar to the
 * query than the best hit of the result are left out, and counted. The best
 * one is always kept.
 */
export function hitsToShow<Hit extends RatedHit>(hits: readonly Hit[]): { shown: Hit[]; leftOut: number } {
  const similarities = hits.flatMap((hit) => (hit.why.vector_similarity === null ? [] : [hit.why.vector_similarity]));
  if (similarities.length === 0) return { shown: [...hits], leftOut: 0 };
  const best = Math.max(...similarities);
  const floor = best - Math.abs(best) * FAR_BELOW;
  const shown = hits.filter((hit) => hit.relevance !== 'vector-only' || hit.why.vector_similarity === null || hit.why.vector_similarity >= floor);
  return { shown, leftOut: hits.length - shown.length };
}
