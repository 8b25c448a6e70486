import { join } from 'node:path';
import type { Config } from './config.js';
import type { Embedder } from './embeddings/embedder.js';
import type { Logger } from './logging.js';
import type { VectorLog } from './domain/vector-log.js';
import type { OpenedStore } from './store/open-store.js';
import type { MemoryStore, NearestVectors } from './store/store.js';
import { VectorIndex } from './vector/vector-index.js';

/* Where a runtime's vectors are searched, and how its local vector index is opened. */

/** Where an embedder's vectors are searched: a local index (or how to open it), or the database. */
export interface VectorParts {
  vectorIndex: VectorIndex | ((signal: AbortSignal) => Promise<VectorIndex>) | null;
  databaseVectors: NearestVectors | null;
}

const VECTORS_NEED_A_LOG = 'this backend keeps no vector change log for a local index';

/** Where the active model's vectors are searched in one data directory: its registered model's local index (opened in the background), or the database. */
export async function vectorParts(config: Config, dataDir: string, opened: OpenedStore, embedder: Embedder, logger: Logger): Promise<VectorParts> {
  if (opened.nearest) {
    await registerModel(opened.store, embedder, logger);
    return { vectorIndex: null, databaseVectors: opened.nearest };
  }
  return { vectorIndex: await vectorIndexOpener(config, dataDir, opened, embedder, logger), databaseVectors: null };
}

/** Register the active model with the store (where the database searches vectors itself, its index is made then). */
export async function registerModel(store: MemoryStore, embedder: Embedder, logger: Logger): Promise<void> {
  const model = embedder.model;
  if (await store.registerModel({ key: model.key, id: model.id, dimension: model.dimension, fingerprint: model.fingerprint })) {
    // Only a store that already holds records has anything to re-embed; a new one says nothing.
    const { docs, embedded } = await store.embeddingProgress(model.key);
    if (docs > embedded) logger.info({ model: model.id, dimension: model.dimension, fingerprint: model.fingerprint, records: docs - embedded }, 'new embedding model: records will be re-embedded');
  }
}

/**
 * Register the active model with the store, and return how to open (or
 * rebuild) its vector index in one data directory: the runtime does that in
 * the background, so a large index does not delay the first answers.
 */
async function vectorIndexOpener(config: Config, dataDir: string, opened: OpenedStore, embedder: Embedder, logger: Logger): Promise<(signal: AbortSignal) => Promise<VectorIndex>> {
  const { store, vectorLog } = opened;
  if (!vectorLog) throw new Error(VECTORS_NEED_A_LOG);
  await registerModel(store, embedder, logger);
  return (signal) => openVectorIndex(config, dataDir, vectorLog, embedder, logger, signal);
}

async function openVectorIndex(config: Config, dataDir: string, log: VectorLog, embedder: Embedder, logger: Logger, signal: AbortSignal): Promise<VectorIndex> {
  const model = embedder.model;
  const started = performance.now();
  const index = await VectorIndex.open({
    dir: join(dataDir, 'vectors'),
    modelKey: model.key,
    graph: { dimension: model.dimension, m: config.hnswM, efConstruction: config.hnswEfConstruction, efSearch: config.hnswEfSearch },
    log,
    logger,
    snapshotEveryChanges: config.snapshotEveryChanges,
    snapshotIntervalMs: config.snapshotIntervalMs,
    exactScanLimit: config.exactScanLimit,
    offThreadBuildAbove: config.graphBuildAbove,
  }, signal);
  logger.info({ model: model.id, dimension: model.dimension, vectors: index.stats().vectors, ms: Math.round(performance.now() - started) }, 'vector search ready');
  return index;
}

