import type { SnapshotManifest } from '../domain/vector-log.js';
import { HnswGraph } from './hnsw-graph.js';
import type { VectorIndexOptions } from './index-settings.js';
import { readSlab } from './slab-loader.js';
import { loadSnapshot } from './snapshot-loading.js';
import type { VectorSlab } from './vector-slab.js';

/** What an index starts from: a verified snapshot and the log after it, or every vector in SQLite with an empty graph. */
export type IndexStart =
  | { mode: 'snapshot'; manifest: SnapshotManifest; slab: VectorSlab; graph: HnswGraph; seq: number }
  | { mode: 'rebuild'; reason: string | null; slab: VectorSlab; graph: HnswGraph; seq: number };

/**
 * Load the newest verified snapshot (graph and vectors), or, when there is
 * none or it fails verification, read every vector from SQLite for a
 * rebuild. Never uses a file whose size, header or checksum disagrees with
 * its manifest. `seq` is the log position read before anything else: every
 * change after it (or after the snapshot's) is the caller's to replay.
 */
export async function startingPoint(options: VectorIndexOptions, signal?: AbortSignal): Promise<IndexStart> {
  const { log, modelKey, logger } = options;
  const manifest = log.readManifest(modelKey);
  // Every change after `seq` is replayed from the log, so the index ends current however long loading takes.
  const seq = log.lastSeq();
  // A good snapshot gives the graph (read on libuv's threads) and, in the same pass as its checksum, the vectors:
  // a start then reads no vector from SQLite but those changed after the snapshot.
  const loaded = manifest ? await loadSnapshot(options, manifest, seq) : { graph: null, slab: null, reason: 'no snapshot yet' };
  let reason = loaded.reason;
  if (manifest && loaded.graph) {
    const slab = loaded.slab;
    try {
      loaded.graph.keepOnly((docId) => slab.has(docId));
      return { mode: 'snapshot', manifest, slab, graph: loaded.graph, seq };
    } catch (error) {
      reason = (error as Error).message;
    }
  }
  // Rebuilding: every visible vector from SQLite, as of `seq` (pages read one by one; changes meanwhile are replayed later).
  const slab = await readSlab(log, modelKey, options.graph.dimension, manifest?.count ?? 0, signal);
  if (manifest || slab.size > 0) logger.warn({ reason, vectors: slab.size }, 'vector snapshot unusable; rebuilding the index from SQLite');
  return { mode: 'rebuild', reason, slab, graph: HnswGraph.create(options.graph, slab.size + 1024), seq };
}
