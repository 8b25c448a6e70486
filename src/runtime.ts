import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditTrail } from './audit/audit-trail.js';
import { keyedFingerprinter, type Fingerprinter } from './audit/fingerprint.js';
import { loadFingerprintSecret } from './audit/fingerprint-secret.js';
import { loadDatabaseSecret } from './auth/shared-secret.js';
import { StartupError } from './domain/errors.js';
import { redactDatabaseUrl } from './domain/database-url.js';
import type { Config } from './config.js';
import type { Embedder } from './embeddings/embedder.js';
import { resolveModel } from './embeddings/model-source.js';
import { describeService, identifyWhenAvailable, type RemoteEmbedderOptions } from './embeddings/remote-embedder.js';
import { serviceModelName } from './config.js';
import { TransformersEmbedder } from './embeddings/transformers-embedder.js';
import { WarningSampler, type Logger } from './logging.js';
import type { ContextScoring } from './memory/context-scoring.js';
import type { FusionSettings, MemoryContext } from './memory/context.js';
import { reembedInBackground } from './memory/reembed.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { createTextIndexer } from './memory/text-indexer.js';
import { createVectorSearch } from './memory/vector-search.js';
import { openStore, type OpenedStore } from './store/open-store.js';
import type { MemoryStore, NearestVectors } from './store/store.js';
import { createDatabaseVectorSearch } from './memory/database-vector-search.js';
import { LOCAL_TENANT } from './domain/principal.js';
import type { VectorLog } from './domain/vector-log.js';
import { CallGate } from './tools/call-gate.js';
import { ClientNotices } from './surface/notices.js';
import { VectorIndex } from './vector/vector-index.js';

/** The long-lived parts shared by every connection: storage, embeddings, vector index, audit trail. */
export interface Runtime {
  readonly store: MemoryStore;
  readonly memory: MemoryContext;
  readonly audit: AuditTrail;
  readonly logger: Logger;
  /** Tool calls in flight: shutdown refuses new ones and waits for these. */
  readonly gate: CallGate;
  /** Background re-embedding of records that lack a vector of the active model; resolves when done. */
  readonly reembedding: Promise<number>;
  /** Tool call and HTTP counters, one set per process (a tenant's runtime shares the server's). */
  readonly metrics: ServerMetrics;
  /** Warnings a client can cause at will, sampled once per process (a tenant's runtime shares the server's). */
  readonly warnings: WarningSampler;
  /** What this tenant's connected clients are told of the server's state (notifications/message). */
  readonly notices: ClientNotices;
  /** An embedding service not identified yet (the runtime has no embedder until it is), or null. */
  readonly pendingEmbedder: PendingEmbedder | null;
  close(): Promise<void>;
}

/**
 * An embedding service whose model is not known yet (it did not answer at
 * start): identification goes on in the background, with backoff, until it
 * answers. Meanwhile search is keyword only and records are stored without
 * vectors; then every runtime waiting on it opens the model's vector index
 * and re-embeds what was stored meanwhile.
 */
export class PendingEmbedder {
  private readonly abort = new AbortController();
  private readonly listeners = new Set<(note: string) => void>();
  /** The embedder once the service answered; null if stopped first. */
  readonly ready: Promise<Embedder | null>;
  note: string;

  constructor(options: RemoteEmbedderOptions, logger: Logger) {
    const noteOf = (reason: string): string => `waiting for the embedding service (${options.provider}) to answer: ${reason}; searches are keyword only until it does, and what is stored meanwhile gets vectors then`;
    this.note = noteOf('not asked yet');
    const update = (reason: string): void => {
      this.note = noteOf(reason.replace(/^the embedding service \([^)]*\) /, ''));
      for (const listener of this.listeners) listener(this.note);
    };
    this.ready = identifyWhenAvailable(options, logger, this.abort.signal, update);
  }

  /** Hear each new reason the service cannot be used yet. */
  onNote(listener: (note: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop trying, and close the embedder if it had just been identified. */
  async stop(): Promise<void> {
    this.abort.abort();
    await (await this.ready)?.close();
  }
}

export interface RuntimeParts {
  store: MemoryStore;
  logger: Logger;
  settings: Pick<Config, 'namespace' | 'maxContentBytes' | 'maxMetadataBytes'>;
  embedder?: Embedder | null;
  /** The vector index, or how to open it: then it loads in the background and keyword search answers meanwhile. */
  vectorIndex?: VectorIndex | ((signal: AbortSignal) => Promise<VectorIndex>) | null;
  /** Instead of a local index: the database's own vector search (PostgreSQL with pgvector). */
  databaseVectors?: NearestVectors | null;
  fusion?: FusionSettings;
  context?: ContextScoring;
  softAndWeight?: number;
  speakerBoost?: number;
  /** Why the configured model is not the active one, if it is not. */
  modelNote?: string | null;
  /** Re-embed in the background at start (the server does; tests that want control do not). */
  reembedBatch?: number;
  /** The embedder belongs to another runtime (a tenant's runtime shares the server's): do not close it. */
  sharedEmbedder?: boolean;
  /** Share another runtime's call gate, so one shutdown waits for every tenant's calls. */
  gate?: CallGate;
  /** Share another runtime's metrics, so one scrape counts every tenant's calls. */
  metrics?: ServerMetrics;
  /** Share another runtime's warning sampler, so one client's warnings are counted once, whatever tenant they come through. */
  warnings?: WarningSampler;
  /** Audit fingerprints, keyed with the root data directory's secret; default a key of this runtime alone (tests). */
  fingerprint?: Fingerprinter;
  /**
   * No embedder yet: an embedding service still to answer. Once it does,
   * `prepare` registers its model and says where its vectors are searched,
   * and the runtime switches to hybrid search. Owned (stopped at close)
   * unless `sharedEmbedder`.
   */
  pending?: { embedder: PendingEmbedder; prepare: (embedder: Embedder) => Promise<VectorParts> } | null;
}

/** Where an embedder's vectors are searched: a local index (or how to open it), or the database. */
export interface VectorParts {
  vectorIndex: VectorIndex | ((signal: AbortSignal) => Promise<VectorIndex>) | null;
  databaseVectors: NearestVectors | null;
}

/** Vector search on PostgreSQL needs pgvector; without it only keyword search can run, and that must be asked for. */
const NO_PGVECTOR = 'the PostgreSQL database has no pgvector extension (vector): install it (e.g. the postgresql-NN-pgvector package, or the pgvector/pgvector image), or start with --embed-model none for keyword search only';
const VECTORS_NEED_A_LOG = 'this backend keeps no vector change log for a local index';

/** How long a start waits for the vector index before serving with keyword search alone. */
const INDEX_WAIT_AT_START_MS = 1000;

/** Fusion weights tuned on the LoCoMo dev split: a weak static embedder must not outvote BM25. */
export const DEFAULT_FUSION: Record<'bundled' | 'other', FusionSettings> = {
  bundled: { keywordWeight: 60, vectorWeight: 1, rrfK: 60 },
  other: { keywordWeight: 1, vectorWeight: 1, rrfK: 60 },
};

/**
 * Conversation-aware scoring, tuned on the LoCoMo dev split (keyword R@10 / R@20):
 * neighbour spread alone 0.789 / 0.854, thread windows alone 0.798 / 0.873,
 * both 0.795 / 0.863; so windows, and the spread off by default.
 */
export const DEFAULT_CONTEXT: ContextScoring = { share: 0, decay: 0.5, radius: 2, window: 3, reply: 1 };

/** Soft-AND weight, tuned on the LoCoMo dev split (R@10 0.761 → 0.789 keyword, 0.763 → 0.791 hybrid). */
export const DEFAULT_SOFT_AND = 2;

/** Speaker boost, tuned on the LoCoMo dev split (hybrid R@10 / R@20 0.800 / 0.875 → 0.805 / 0.880; more hurts adversarial questions). */
export const DEFAULT_SPEAKER_BOOST = 0.1;


/** After a write stored records without vectors, wait this long before re-embedding them (their transaction commits meanwhile). */
const REEMBED_AFTER_MISS_MS = 1000;
/** …and look once more this long after a pass ends, in case one committed later than that. */
const REEMBED_SETTLE_MS = 5000;

/** How long closing waits for a re-embedding batch before closing the embedder under it. */
const CLOSE_GRACE_MS = 1000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Wire the parts into a runtime. */
export function assembleRuntime(parts: RuntimeParts): Runtime {
  const { store, logger, settings } = parts;
  const warnings = parts.warnings ?? new WarningSampler(logger);
  const abort = new AbortController();
  const notices = new ClientNotices();
  const openings: Array<Promise<VectorIndex | null>> = [];
  let activeEmbedder: Embedder | null = null;

  // Background re-embedding: one pass at start, and again whenever a write had to store records without vectors.
  let pass: Promise<number> | null = null;
  let missedAt = 0;
  let scheduled: NodeJS.Timeout | null = null;
  const runPass = (): Promise<number> => {
    const embedder = activeEmbedder;
    if (!embedder || !parts.reembedBatch || abort.signal.aborted) return Promise.resolve(0);
    if (pass) return pass;
    const vectors = memory.vectors;
    const current = reembedInBackground(store, embedder, logger, {
      batch: parts.reembedBatch,
      signal: abort.signal,
      onProgress: () => vectors?.catchUp(),
    }).catch((error: unknown) => {
      logger.error({ err: error }, 're-embedding stopped');
      return 0;
    });
    pass = current.finally(() => {
      pass = null;
      // A write that stored records without vectors may have committed after this pass last looked.
      if (Date.now() - missedAt < REEMBED_SETTLE_MS * 2) schedule(REEMBED_SETTLE_MS);
    });
    return pass;
  };
  const schedule = (delayMs: number): void => {
    if (scheduled || abort.signal.aborted) return;
    scheduled = setTimeout(() => {
      scheduled = null;
      void runPass();
    }, delayMs);
    scheduled.unref();
  };
  const missed = (): void => {
    missedAt = Date.now();
    schedule(REEMBED_AFTER_MISS_MS);
  };

  const memory: Mutable<MemoryContext> = {
    store,
    logger,
    indexer: createTextIndexer(null, logger),
    vectors: null,
    embedder: null,
    fusion: parts.fusion ?? DEFAULT_FUSION.other,
    context: parts.context ?? DEFAULT_CONTEXT,
    softAndWeight: parts.softAndWeight ?? DEFAULT_SOFT_AND,
    speakerBoost: parts.speakerBoost ?? DEFAULT_SPEAKER_BOOST,
    modelNote: parts.modelNote ?? null,
    defaultNamespace: settings.namespace,
    limits: { maxContentBytes: settings.maxContentBytes, maxMetadataBytes: settings.maxMetadataBytes },
    now: () => new Date().toISOString(),
  };

  /** Give the runtime its embedder: the vector leg, vectors for new records, and re-embedding of the ones lacking them. */
  const activate = (embedder: Embedder, where: VectorParts): Promise<number> => {
    const opening = typeof where.vectorIndex === 'function' ? where.vectorIndex(abort.signal) : where.vectorIndex;
    const vectors = where.databaseVectors ? createDatabaseVectorSearch(embedder, where.databaseVectors) : opening ? createVectorSearch(embedder, opening, store, logger) : null;
    if (vectors) openings.push(vectors.opened());
    // A local index only (the database's own vector search has nothing to open); not when closing stopped the load.
    if (vectors && opening && !where.databaseVectors) {
      void vectors.opened().then((index) => {
        if (!abort.signal.aborted) noticeIndexStart(notices, index === null ? null : index.stats().start, index?.stats().vectors ?? 0);
      });
    }
    else if (opening) openings.push(Promise.resolve(opening).catch(() => null));
    activeEmbedder = embedder;
    memory.embedder = embedder;
    memory.vectors = vectors;
    memory.indexer = createTextIndexer(embedder, logger, missed);
    return runPass();
  };

  let reembedding: Promise<number> = Promise.resolve(0);
  let unsubscribe: () => void = () => {};
  // The configured model could not be loaded (with no embedder at all, the note only says vector search is off, as configured).
  // Without the loader's reason, which can name files of the server: the log has it.
  if (parts.modelNote && parts.embedder) notices.publish({ level: 'warning', kind: 'embedding-model', message: `embedding model: ${parts.modelNote.replace(/ \(.*\);/s, ';')}` }, { standing: true });
  if (parts.embedder) {
    reembedding = activate(parts.embedder, { vectorIndex: parts.vectorIndex ?? null, databaseVectors: parts.databaseVectors ?? null });
  } else if (parts.pending) {
    const { embedder: pending, prepare } = parts.pending;
    memory.modelNote = pending.note;
    notices.publish({ level: 'warning', kind: 'embedding-service', message: pending.note }, { standing: true });
    unsubscribe = pending.onNote((note) => {
      if (!activeEmbedder) memory.modelNote = note;
    });
    reembedding = pending.ready.then(async (embedder) => {
      unsubscribe();
      if (!embedder || abort.signal.aborted) return 0;
      const where = await prepare(embedder);
      if (abort.signal.aborted) return 0;
      memory.modelNote = null;
      notices.clear('embedding-service');
      return activate(embedder, where);
    }).catch((error: unknown) => {
      logger.error({ err: error }, 'the embedding service answered, but its vector index could not be prepared; search stays keyword only');
      return 0;
    });
  }

  return {
    store,
    logger,
    notices,
    audit: new AuditTrail(store, logger, parts.fingerprint ?? keyedFingerprinter(randomBytes(32))),
    gate: parts.gate ?? new CallGate(),
    metrics: parts.metrics ?? new ServerMetrics(),
    warnings,
    get reembedding() {
      return reembedding;
    },
    pendingEmbedder: parts.pending?.embedder ?? null,
    memory,
    async close() {
      // Stops a load still in progress (the next start reads it again); an open index saves its snapshot.
      abort.abort();
      unsubscribe();
      if (scheduled) clearTimeout(scheduled);
      if (parts.pending && !parts.sharedEmbedder) await parts.pending.embedder.stop();
      if (!parts.sharedEmbedder) {
        // A batch in flight to an embedding service that hangs would hold the shutdown for its timeouts: give it a moment, then close the embedder under it.
        await Promise.race([Promise.all([reembedding, pass]), sleep(CLOSE_GRACE_MS, undefined, { ref: false })]);
        await activeEmbedder?.close();
      }
      await reembedding;
      await pass;
      for (const index of await Promise.all(openings)) await index?.close();
      if (!parts.warnings) warnings.close();
      await store.close();
    },
  };
}

/** Tell clients how the vector index came up, when they should know: rebuilt, replayed, or not opened at all. */
function noticeIndexStart(notices: ClientNotices, start: { mode: 'snapshot' | 'rebuild'; replayed: number; reason: string | null } | null, vectors: number): void {
  if (start === null) {
    notices.publish({ level: 'error', kind: 'vector-index', message: 'the vector index could not be opened: searches answer from the keyword index only (the server log says why)' }, { standing: true });
  } else if (start.mode === 'rebuild' && vectors > 0) {
    const why = start.reason === 'no snapshot yet' ? 'it had no snapshot' : 'its snapshot could not be used';
    notices.publish({ level: 'warning', kind: 'vector-index', message: `the vector index was rebuilt from the database (${vectors} vector${vectors === 1 ? '' : 's'}; ${why}): until its graph catches up, vector searches scan exactly and may be slower` }, { standing: true });
  } else if (start.mode === 'snapshot' && start.replayed > 0) {
    notices.publish({ level: 'notice', kind: 'vector-index', message: `the vector index was loaded from its snapshot and replayed ${start.replayed} later changes from the database` }, { standing: true });
  }
}

interface StartedEmbedder {
  embedder: Embedder | null;
  /** The bundled model (its own fusion weights). */
  bundled: boolean;
  note: string | null;
  /** An embedding service that did not answer in time at start. */
  pending: PendingEmbedder | null;
}

/** How long a start waits for an embedding service to answer before serving keyword search while it goes on trying. */
const SERVICE_WAIT_AT_START_MS = 3000;

/** The embedding service's settings. */
export const remoteEmbedderOptions = (config: Config): RemoteEmbedderOptions => ({
  provider: config.embedProvider as RemoteEmbedderOptions['provider'],
  url: config.embedUrl ?? '',
  model: serviceModelName(config),
  apiKey: config.embedApiKey ?? null,
  timeoutMs: config.embedTimeoutMs,
  dimensions: config.embedDimensions ?? null,
  batch: config.embedBatch,
});

/**
 * Identify the embedding service's model: at once when it answers within a
 * few seconds; otherwise the server starts without it (keyword search) and
 * the identification goes on in the background.
 */
async function startServiceEmbedder(config: Config, logger: Logger): Promise<StartedEmbedder> {
  const options = remoteEmbedderOptions(config);
  const pending = new PendingEmbedder(options, logger);
  // A timer that holds the process open: nothing else does yet while a start waits (stdin is not read before the server runs).
  const waited = new AbortController();
  const answered = await Promise.race([pending.ready, sleep(SERVICE_WAIT_AT_START_MS, null, { signal: waited.signal }).catch(() => null)]).finally(() => waited.abort());
  if (answered) {
    logger.info({ service: describeService(options), model: answered.model.id, dimension: answered.model.dimension, fingerprint: answered.model.fingerprint }, 'embedding service identified');
    return { embedder: answered, bundled: false, note: null, pending: null };
  }
  return { embedder: null, bundled: false, note: pending.note, pending };
}

async function startEmbedder(config: Config, logger: Logger): Promise<StartedEmbedder> {
  if (config.embedProvider !== 'local') return startServiceEmbedder(config, logger);
  if (config.embedModel === 'none') return { embedder: null, bundled: false, note: 'vector search disabled by configuration (embed model "none")', pending: null };
  const settings = {
    modelDir: config.modelDir,
    cacheDir: config.modelCacheDir,
    allowRemoteModels: config.allowRemoteModels,
    dtype: config.embedDtype,
  };
  const pool = { workers: config.embedWorkers, maxBatch: config.embedBatch };
  const choice = resolveModel({ name: config.embedModel, ...settings });
  try {
    return { embedder: await TransformersEmbedder.start({ ...choice.options, id: choice.id, ...pool }), bundled: choice.bundled, note: null, pending: null };
  } catch (error) {
    if (choice.bundled) throw error;
    const note = `model "${config.embedModel}" could not be loaded (${(error as Error).message.split('\n')[0]}); using the bundled model`;
    logger.warn({ model: config.embedModel, err: error }, 'embedding model could not be loaded; falling back to the bundled model');
    const bundled = resolveModel({ name: 'bundled', ...settings });
    return { embedder: await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, ...pool }), bundled: true, note, pending: null };
  }
}

/** Where the active model's vectors are searched in one data directory: its registered model's local index (opened in the background), or the database. */
async function vectorParts(config: Config, dataDir: string, opened: OpenedStore, embedder: Embedder, logger: Logger): Promise<VectorParts> {
  if (opened.nearest) {
    await registerModel(opened.store, embedder, logger);
    return { vectorIndex: null, databaseVectors: opened.nearest };
  }
  return { vectorIndex: await vectorIndexOpener(config, dataDir, opened, embedder, logger), databaseVectors: null };
}

/** Register the active model with the store (where the database searches vectors itself, its index is made then). */
async function registerModel(store: MemoryStore, embedder: Embedder, logger: Logger): Promise<void> {
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
  }, signal);
  logger.info({ model: model.id, dimension: model.dimension, vectors: index.stats().vectors, ms: Math.round(performance.now() - started) }, 'vector search ready');
  return index;
}

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
    const { embedder, bundled, note, pending } = await startEmbedder(config, logger);
    stopOnFailure = pending;
    const prepare = (active: Embedder): Promise<VectorParts> => vectorParts(config, config.dataDir, opened, active, logger);
    const where = embedder ? await prepare(embedder) : { vectorIndex: null, databaseVectors: null };
    // Remote models, like any model but the bundled one, weigh both rankings alike.
    const tuned = DEFAULT_FUSION[bundled ? 'bundled' : 'other'];
    return await untilIndexLoadsOrLater(assembleRuntime({
      store,
      logger,
      settings: config,
      embedder,
      ...where,
      pending: pending ? { embedder: pending, prepare } : null,
      modelNote: note,
      fusion: {
        keywordWeight: config.fusionKeywordWeight ?? tuned.keywordWeight,
        vectorWeight: config.fusionVectorWeight ?? tuned.vectorWeight,
        rrfK: config.fusionRrfK ?? tuned.rrfK,
      },
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
    const { embedder } = root.memory;
    const prepare = (active: Embedder): Promise<VectorParts> => vectorParts(config, dataDir, opened, active, logger);
    const where = embedder && (root.memory.vectors || opened.nearest) ? await prepare(embedder) : null;
    // The root's embedding service has not answered yet: this tenant waits for it too.
    const pending = !embedder && root.pendingEmbedder ? { embedder: root.pendingEmbedder, prepare } : null;
    return await untilIndexLoadsOrLater(assembleRuntime({
      store,
      logger,
      settings: config,
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
