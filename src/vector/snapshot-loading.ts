import type { SnapshotManifest } from '../domain/vector-log.js';
import { HnswGraph } from './hnsw-graph.js';
import type { VectorIndexOptions } from './index-settings.js';
import { snapshotShapeProblem } from './snapshot-files.js';
import { readSnapshotVectors } from './snapshot-vectors.js';
import type { VectorSlab } from './vector-slab.js';

/**
 * The snapshot's graph and vectors, or why it cannot be used. Its size and
 * header are checked first (hnswlib allocates what the header says); the
 * graph is then read while the file is read again for its checksum and
 * vectors. Nothing of a file whose checksum fails is used.
 */
export async function loadSnapshot(
  options: VectorIndexOptions,
  manifest: SnapshotManifest,
  seq: number,
): Promise<{ graph: HnswGraph; slab: VectorSlab; reason: null } | { graph: null; slab: null; reason: string }> {
  const unusable = (reason: string) => ({ graph: null, slab: null, reason });
  if (manifest.dimension !== options.graph.dimension) return unusable(`snapshot has ${manifest.dimension} dimensions`);
  if (manifest.seq > seq) return unusable(`snapshot is ahead of the database (seq ${manifest.seq} > ${seq})`);
  const shape = await snapshotShapeProblem(options.dir, manifest);
  if (shape !== null) return unusable(shape);
  const file = `${options.dir}/${manifest.file}`;
  const [read, graph] = await Promise.all([
    readSnapshotVectors(file, manifest.dimension, manifest.count).catch((error: unknown) => (error as Error).message),
    HnswGraph.load(file, options.graph, manifest.count).catch((error: unknown) => (error as Error).message),
  ]);
  if (typeof read === 'string') return unusable(read);
  if (read.sha256 !== manifest.sha256) return unusable('checksum differs from the manifest');
  return typeof graph === 'string' ? unusable(graph) : { graph, slab: read.slab, reason: null };
}
