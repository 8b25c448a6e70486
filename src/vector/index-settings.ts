import type { VectorLog } from '../domain/vector-log.js';
import type { Logger } from '../logging.js';
import type { GraphSettings } from './hnsw-graph.js';

/** How a model's vector index is opened and kept: where, what it follows, when it saves. */
export interface VectorIndexOptions {
  /** Where snapshot files live. */
  dir: string;
  modelKey: string;
  graph: GraphSettings;
  log: VectorLog;
  logger: Logger;
  /** Write a snapshot after this many changes… */
  snapshotEveryChanges: number;
  /** …or this long after the first unsaved change. */
  snapshotIntervalMs: number;
  /** Filters admitting at most this many records are answered by an exact scan instead of a filtered graph walk. */
  exactScanLimit: number;
  /**
   * Above this many vectors (default 100,000) both snapshot triggers stretch in
   * proportion to the index: a snapshot rewrites the whole graph, so writing it
   * proportionally less often keeps the disk time it takes flat.
   */
  snapshotScaleVectors?: number;
  /**
   * A backlog of at least this many changes is built into a new graph in a
   * worker thread instead of being inserted on the serving thread (default
   * 2,000; 0: never).
   */
  offThreadBuildAbove?: number;
}

export interface VectorIndexStats {
  model_key: string;
  dimension: number;
  vectors: number;
  /** Changes read from the log but not yet in the HNSW graph (answered by exact scan meanwhile). */
  backlog: number;
  /** A new graph being built off the serving thread: vectors inserted so far, of how many. */
  building?: { built: number; vectors: number };
  applied_seq: number;
  snapshot_seq: number;
  /** How the index came up at start: loaded a snapshot and replayed its tail, or rebuilt from SQLite. */
  start: { mode: 'snapshot' | 'rebuild'; replayed: number; reason: string | null };
}
