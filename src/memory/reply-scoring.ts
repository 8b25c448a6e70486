import type { KeywordHit, MemoryStore, StoreFilters } from '../store/store.js';

/** A memory asks something when its text holds a question mark. */
const asks = (text: string): boolean => text.includes('?');

/**
 * In a conversation a question is answered by the turn after it, and the
 * answer often shares no word with the query: "What gave you the idea for the
 * colours?" matches a query about colours, "I'm obsessed with them, so…"
 * answers it. Windows lift a question and its neighbours alike, so the
 * question itself outranks its answer. Give the turn after each matching
 * question `share` × the question's own score (`own`, before any thread
 * scoring), added to that turn's score in `ranked`. Only questions pass
 * anything on, and only forwards: a statement's neighbours, or the turn
 * before a question, gain nothing more than their windows give them.
 * Memories outside threads are unchanged; the answering turn must pass the
 * same filters as hits.
 */
export async function creditReplies(
  store: MemoryStore,
  own: readonly KeywordHit[],
  ranked: readonly KeywordHit[],
  filters: StoreFilters,
  share: number,
): Promise<KeywordHit[]> {
  if (share <= 0 || own.length === 0) return [...ranked];
  const texts = await store.docTexts(own.map((hit) => hit.doc_id));
  const questions = own.filter((hit) => asks(texts.get(hit.doc_id) ?? ''));
  if (questions.length === 0) return [...ranked];
  const next = (await store.threadNeighbours(questions.map((hit) => hit.doc_id), 1)).filter((n) => n.offset === 1);
  if (next.length === 0) return [...ranked];
  const score = new Map(ranked.map((hit) => [hit.doc_id, hit.score]));
  const known = new Set([...score.keys(), ...own.map((hit) => hit.doc_id)]);
  const admitted = await store.admit([...new Set(next.map((n) => n.doc_id).filter((id) => !known.has(id)))], filters);
  const asked = new Map(questions.map((hit) => [hit.doc_id, hit.score]));
  for (const { center, doc_id } of next) {
    if (!known.has(doc_id) && !admitted.has(doc_id)) continue;
    score.set(doc_id, (score.get(doc_id) ?? 0) + share * asked.get(center)!);
  }
  return [...score.entries()].map(([doc_id, value]) => ({ doc_id, score: value })).sort((a, b) => b.score - a.score);
}
