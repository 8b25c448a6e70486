import type { KeywordHit, MemoryStore } from '../store/store.js';
import { words } from './query-terms.js';

/**
 * Questions about conversations usually name who said or did the thing ("What
 * did Jon say about the store?"), but a name that speaks half the turns of a
 * conversation has almost no weight in BM25. Scale up the hits whose speaker
 * (or author) is named in the query by (1 + weight). Kept small: a question
 * can name the wrong person, and then the boost must not bury the answer.
 */
export async function boostNamedSpeakers(store: MemoryStore, hits: readonly KeywordHit[], terms: readonly string[], weight: number): Promise<KeywordHit[]> {
  if (weight <= 0 || hits.length === 0) return [...hits];
  const speakers = await store.docSpeakers(hits.map((hit) => hit.doc_id));
  if (speakers.size === 0) return [...hits];
  const asked = new Set(terms);
  const named = (speaker: string | undefined): boolean => speaker !== undefined && words(speaker).some((word) => asked.has(word));
  return hits
    .map((hit) => (named(speakers.get(hit.doc_id)) ? { doc_id: hit.doc_id, score: hit.score * (1 + weight) } : hit))
    .sort((a, b) => b.score - a.score);
}
