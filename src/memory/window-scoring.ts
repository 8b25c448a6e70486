import type { KeywordHit, MemoryStore, StoreFilters, WindowHit } from '../store/store.js';

/**
 * Add to each hit `weight` × the best score of a thread window containing it,
 * among `windows`, the query's best matching windows (a window is a memory
 * with the one before and the one after). The turn that
 * answers a question often shares no word with it, but the window holding
 * both does, so both rise. Memories outside threads keep their own score;
 * window turns must pass the same filters as hits.
 */
export async function addWindowScores(
  store: MemoryStore,
  hits: readonly KeywordHit[],
  windows: readonly WindowHit[],
  filters: StoreFilters,
  weight: number,
): Promise<KeywordHit[]> {
  if (weight <= 0 || windows.length === 0) return [...hits];
  const best = new Map<number, number>();
  const lift = (docId: number, score: number): void => {
    if (score > (best.get(docId) ?? 0)) best.set(docId, score);
  };
  // The middle memory passed the filters with its window; its neighbours are checked here.
  const known = new Set([...hits.map((hit) => hit.doc_id), ...windows.map((window) => window.doc_id)]);
  const sides = windows.flatMap((window) => [window.before, window.after].filter((id): id is number => id !== null));
  const admitted = await store.admit([...new Set(sides.filter((id) => !known.has(id)))], filters);
  for (const window of windows) {
    for (const docId of [window.before, window.doc_id, window.after]) {
      if (docId !== null && (known.has(docId) || admitted.has(docId))) lift(docId, window.score);
    }
  }
  const score = new Map(hits.map((hit) => [hit.doc_id, hit.score]));
  for (const [docId, value] of best) score.set(docId, (score.get(docId) ?? 0) + weight * value);
  return [...score.entries()].map(([doc_id, value]) => ({ doc_id, score: value })).sort((a, b) => b.score - a.score);
}
