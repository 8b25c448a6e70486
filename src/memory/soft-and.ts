import type { KeywordHit, MemoryStore } from '../store/store.js';
import { matchedTerms } from './snippet.js';

/**
 * Soft AND: an OR query ranks by BM25, which can put a record matching one
 * rare word above one matching most of the question. Scale each score up by
 * the share of query words the record contains (weight × share). The count
 * comes with the hits when the keyword search scored every word itself;
 * otherwise the hits' texts are read and matched here.
 */
export async function rewardCoverage(store: MemoryStore, hits: readonly KeywordHit[], terms: readonly string[], weight: number): Promise<KeywordHit[]> {
  if (weight <= 0 || terms.length < 2 || hits.length === 0) return [...hits];
  const matched = hits.every((hit) => hit.matched !== undefined) ? (hit: KeywordHit) => hit.matched! : await matchedInTexts(store, hits, terms);
  return hits.map((hit) => ({ doc_id: hit.doc_id, score: hit.score * (1 + (weight * matched(hit)) / terms.length) })).sort((a, b) => b.score - a.score);
}

async function matchedInTexts(store: MemoryStore, hits: readonly KeywordHit[], terms: readonly string[]): Promise<(hit: KeywordHit) => number> {
  const texts = await store.docTexts(hits.map((hit) => hit.doc_id));
  return (hit) => matchedTerms(terms, texts.get(hit.doc_id) ?? '').length;
}
