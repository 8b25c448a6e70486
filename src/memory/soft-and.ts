import type { KeywordHit, MemoryStore } from '../store/store.js';
import { matchedTerms } from './snippet.js';

/**
 * Soft AND: an OR query ranks by BM25, which can put a record matching one
 * rare word above one matching most of the question. Scale each score up by
 * the share of query words the record contains (weight × share).
 */
export async function rewardCoverage(store: MemoryStore, hits: readonly KeywordHit[], terms: readonly string[], weight: number): Promise<KeywordHit[]> {
  if (weight <= 0 || terms.length < 2 || hits.length === 0) return [...hits];
  const texts = await store.docTexts(hits.map((hit) => hit.doc_id));
  return hits
    .map((hit) => ({ doc_id: hit.doc_id, score: hit.score * (1 + (weight * matchedTerms(terms, texts.get(hit.doc_id) ?? '').length) / terms.length) }))
    .sort((a, b) => b.score - a.score);
}
