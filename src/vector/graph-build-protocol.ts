import type { SnapshotManifest } from '../domain/vector-log.js';
import type { GraphSettings } from './hnsw-graph.js';

/** What a graph-building worker is started with. */
export interface GraphBuildJob {
  settings: GraphSettings;
  /** How many vectors will come: the graph is sized once. */
  capacity: number;
  /** A snapshot file to start from (in `dir`, already verified), or null to build from nothing. */
  base: { file: string; count: number } | null;
  /** Where the snapshot goes, for which model, stamped with the change-log position the vectors were read at. */
  dir: string;
  modelKey: string;
  seq: number;
}

/** To the worker: a chunk of vectors (doc ids and their vectors, flat), doc ids to delete, or the end of them. */
export type ToGraphBuilder = { type: 'vectors'; docIds: Float64Array; vectors: Float32Array } | { type: 'deletes'; docIds: Float64Array } | { type: 'end' };

/** From the worker: how many vectors it has inserted (after each chunk), the snapshot it wrote, or why it failed. */
export type FromGraphBuilder =
  | { type: 'progress'; built: number }
  | { type: 'done'; manifest: SnapshotManifest }
  | { type: 'failed'; message: string };
