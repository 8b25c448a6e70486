import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyedFingerprinter } from './audit/fingerprint.js';
import { loadFingerprintSecret } from './audit/fingerprint-secret.js';
import { loadDatabaseSecret } from './auth/shared-secret.js';
import type { Config } from './config.js';
import { redactDatabaseUrl } from './domain/database-url.js';
import { StartupError } from './domain/errors.js';
import { LOCAL_TENANT } from './domain/principal.js';
import { startEmbedder, type PendingEmbedder } from './embedder-choice.js';
import type { Embedder } from './embeddings/embedder.js';
import type { Logger } from './logging.js';
import { assembleRuntime, type Runtime } from './runtime.js';
import { fusionFor, modelFamily } from './memory/fusion-defaults.js';
import { oldKeywordTextNotice } from './memory/keyword-rewrite.js';
import { openStore } from './store/open-store.js';
import { vectorParts, type VectorParts } from './vector-parts.js';

/**
 * Opening a runtime from the configuration: the store, the embedding model
 * and the vector index of the root data directory (openRuntime), or of a
 * tenant's beside it (openTenantRuntime); runtime.ts wires the parts.
 */

/** Vector search on PostgreSQL needs pgvector; without it only keyword search can run, and that must be asked for. */
const NO_PGVECTOR = 'the PostgreSQL database has no pgvector extension (vector): install it (e.g. the postgresql-NN-pgvector package, or the pgvector/pgvector image), or start with --embed-model none for keyword search only';

/** How long a start waits for the vector index before serving with keyword search alone. */
const INDEX_WAIT_AT_START_MS = 1000;

/**
 * Give the vector index a moment to load before answering: a small one is
 * ready within it (so hybrid search works from the first call), a large one
 * goes on loading in the background while keyword search answers.
 */
async function untilIndexLoadsOrLater(runtime: Runtime): Promise<Runtime> {
  const opened = runtime.memory.vectors?.opened();
  if (opened) await Promise.race([opened, sleep(INDEX_WAIT_AT_START_MS, undefined, { ref: false })]);
  return runtime;
}

/** Said once per start (and per tenant opened): a store written by an earlier version is searched as it was written. */
async function warnOfOldKeywordText(store: Runtime['store'], logger: Logger, tenant: string): Promise<void> {
  const notice = await oldKeywordTextNotice(store);
  if (notice !== null) logger.warn({ tenant }, notice);
}

/**
 * The key of every audit fingerprint: the data directory's secret file, or,
 * on PostgreSQL, the secret every server on the database shares.
 */
export async function fingerprintSecret(config: Config, options: { create: boolean }): Promise<Buffer> {
  if (!config.databaseUrl) return loadFingerprintSecret(config.dataDir, options);
  try {
    return await loadDatabaseSecret({ url: config.databaseUrl, connectTimeoutMs: config.databaseConnectTimeoutMs, waitForDatabaseMs: config.waitForDatabaseMs }, options);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(`cannot read the audit fingerprint secret from the PostgreSQL database at ${redactDatabaseUrl(config.databaseUrl)}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}

/**
 * Open the embedded SQLite store, the embedding model and the vector index in
 * the configured data directory. `audits: false` for a command that records
 * no tool calls (import, reindex): it neither needs nor creates the audit
 * fingerprint secret, which belongs to the data directory a server runs on
 * (run on a tenant's directory, such a command would otherwise leave a stray one there).
 */
export async function openRuntime(config: Config, logger: Logger, options: { reembed?: boolean; audits?: boolean } = {}): Promise<Runtime> {
  const opened = await openStore(config, { tenant: LOCAL_TENANT, dataDir: config.dataDir });
  const { store } = opened;
  let stopOnFailure: PendingEmbedder | null = null;
  try {
    if (opened.backend === 'postgres' && !opened.nearest && config.embedModel !== 'none') throw new StartupError(NO_PGVECTOR);
    // Before anything else starts: a damaged secret stops the start in one line.
    const fingerprint = keyedFingerprinter(options.audits === false ? randomBytes(32) : await fingerprintSecret(config, { create: true }));
    logger.info(opened.backend === 'sqlite' ? { dataDir: config.dataDir } : { backend: 'postgres' }, 'database open');
    await warnOfOldKeywordText(store, logger, LOCAL_TENANT);
    const { embedder, bundled, note, pending } = await startEmbedder(config, logger);
    stopOnFailure = pending;
    const prepare = (active: Embedder): Promise<VectorParts> => vectorParts(config, config.dataDir, opened, active, logger);
    const where = embedder ? await prepare(embedder) : { vectorIndex: null, databaseVectors: null };
    // Fusion follows the kind of model (fusion-defaults.ts): the bundled static vectors only break ties.
    const family = modelFamily({ service: config.embedProvider !== 'local', bundled });
    return await untilIndexLoadsOrLater(assembleRuntime({
      store,
      logger,
      settings: config,
      embedder,
      ...where,
      pending: pending ? { embedder: pending, prepare } : null,
      modelNote: note,
      fusion: fusionFor(family, { method: config.fusionMethod, keywordWeight: config.fusionKeywordWeight, vectorWeight: config.fusionVectorWeight, rrfK: config.fusionRrfK }),
      context: { share: config.contextShare, decay: config.contextDecay, radius: config.contextRadius, window: config.contextWindow, reply: config.contextReply },
      softAndWeight: config.softAndWeight,
      speakerBoost: config.speakerBoost,
      fingerprint,
      ...(options.reembed === false ? {} : { reembedBatch: config.embedBatch * 2 }),
    }));
  } catch (error) {
    await stopOnFailure?.stop();
    await store.close();
    throw error;
  }
}

/**
 * Open another data directory (a tenant's) beside a running one: its own
 * SQLite file and vector index, the same embedding model, search settings and
 * call gate. Closing it leaves the shared embedder running.
 */
export async function openTenantRuntime(config: Config, root: Runtime, tenant: string, dataDir: string, logger: Logger): Promise<Runtime> {
  const opened = await openStore(config, { tenant, dataDir });
  const { store } = opened;
  try {
    await warnOfOldKeywordText(store, logger, tenant);
    const { embedder } = root.memory;
    const prepare = (active: Embedder): Promise<VectorParts> => vectorParts(config, dataDir, opened, active, logger);
    const where = embedder && (root.memory.vectors || opened.nearest) ? await prepare(embedder) : null;
    // The root's embedding service has not answered yet: this tenant waits for it too.
    const pending = !embedder && root.pendingEmbedder ? { embedder: root.pendingEmbedder, prepare } : null;
    return await untilIndexLoadsOrLater(assembleRuntime({
      store,
      logger,
      settings: config,
      tenant,
      embedder: where ? embedder : null,
      ...(where ?? {}),
      pending,
      modelNote: root.memory.modelNote,
      fusion: root.memory.fusion,
      context: root.memory.context,
      softAndWeight: root.memory.softAndWeight,
      speakerBoost: root.memory.speakerBoost,
      reembedBatch: config.embedBatch * 2,
      sharedEmbedder: true,
      gate: root.gate,
      metrics: root.metrics,
      warnings: root.warnings,
      fingerprint: root.audit.fingerprint,
    }));
  } catch (error) {
    await store.close();
    throw error;
  }
}
