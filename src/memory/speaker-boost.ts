import type { KeywordHit, MemoryStore } from '../store/store.js';
import { words } from './query-terms.js';

/** The words of every speaker name each store has reported, and how far it has reported them. */
const speakerWords = new WeakMap<MemoryStore, { through: number; words: Set<string> }>();

/** Whether a query term is a word of any speaker's or author's name in the store (names are read once, then only new ones). */
async function namesAnySpeaker(store: MemoryStore, terms: readonly string[]): Promise<boolean> {
  const known = speakerWords.get(store) ?? { through: 0, words: new Set<string>() };
  speakerWords.set(store, known);
  const fresh = await store.speakerNames(known.through);
  for (const name of fresh.names) for (const word of words(name)) known.words.add(word);
  known.through = Math.max(known.through, fresh.through);
  return terms.some((term) => known.words.has(term));
}

/**
 * Questions about conversations usually name who said or did the thing ("What
 * did Jon say about the store?"), but a name that speaks half the turns of a
 * conversation has almost no weight in BM25. Scale up the hits whose speaker
 * (or author) is named in the query by (1 + weight). Kept small: a question
 * can name the wrong person, and then the boost must not bury the answer.
 * The hits' speakers are read only when the query names someone who speaks
 * in the store: most queries name nobody. A search confined to one namespace
 * (`everyQuery`) reads them for every query: speakers of other namespaces
 * must not change how long it takes. The hits it boosts are the same either
 * way, since every hit's speaker is among the store's names.
 */
export async function boostNamedSpeakers(store: MemoryStore, hits: readonly KeywordHit[], terms: readonly string[], weight: number, everyQuery = false): Promise<KeywordHit[]> {
  if (weight <= 0 || hits.length === 0 || (!everyQuery && !(await namesAnySpeaker(store, terms)))) return [...hits];
  const speakers = await store.docSpeakers(hits.map((hit) => hit.doc_id));
  if (speakers.size === 0) return [...hits];
  const asked = new Set(terms);
  const named = (speaker: string | undefined): boolean => speaker !== undefined && words(speaker).some((word) => asked.has(word));
  return hits
    .map((hit) => (named(speakers.get(hit.doc_id)) ? { doc_id: hit.doc_id, score: hit.score * (1 + weight) } : hit))
    .sort((a, b) => b.score - a.score);
}
