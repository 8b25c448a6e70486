import type { HnswGraph } from './hnsw-graph.js';
import type { Neighbour, VectorSlab } from './vector-slab.js';

/** Changes read from the log and not yet applied to the graph. */
export type Backlog = ReadonlyMap<number, 'upsert' | 'delete'>;

/**
 * The k nearest records by cosine similarity, among `admitted` doc ids when
 * given: small admitted sets are scanned exactly in the slab; otherwise the
 * graph is walked (skipping docs the backlog changed) and the backlog's
 * upserts are scored exactly, so a search sees every change read.
 */
export function searchGraphAndBacklog(
  graph: HnswGraph,
  slab: VectorSlab,
  backlog: Backlog,
  exactScanLimit: number,
  query: Float32Array,
  k: number,
  admitted?: readonly number[],
): Neighbour[] {
  if (admitted && admitted.length <= exactScanLimit) return slab.search(query, k, admitted);
  const admittedSet = admitted ? new Set(admitted) : null;
  const pending: number[] = [];
  for (const [docId, op] of backlog) if (op === 'upsert' && (!admittedSet || admittedSet.has(docId))) pending.push(docId);
  const needsFilter = admittedSet !== null || backlog.size > 0;
  const fromGraph = graph.search(query, k, needsFilter ? (docId) => !backlog.has(docId) && (!admittedSet || admittedSet.has(docId)) : undefined);
  const merged = [...fromGraph.filter((n) => slab.has(n.docId)), ...(pending.length ? slab.search(query, k, pending) : [])];
  return merged.sort((a, b) => b.similarity - a.similarity).slice(0, k);
}
