import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditTrail } from './audit/audit-trail.js';
import { keyedFingerprinter, type Fingerprinter } from './audit/fingerprint.js';
import type { Config } from './config.js';
import type { Embedder } from './embeddings/embedder.js';
import { WarningSampler, type Logger } from './logging.js';
import type { ContextScoring } from './memory/context-scoring.js';
import type { FusionSettings, MemoryContext } from './memory/context.js';
import { ReembedScheduler } from './memory/reembed-scheduler.js';
import { DEFAULT_FUSION } from './memory/fusion-defaults.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { createTextIndexer } from './memory/text-indexer.js';
import { createVectorSearch } from './memory/vector-search.js';
import type { MemoryStore, NearestVectors } from './store/store.js';
import { createDatabaseVectorSearch } from './memory/database-vector-search.js';
import { CallGate } from './tools/call-gate.js';
import { ClientNotices, noticeIndexStart } from './surface/notices.js';
import { PendingEmbedder } from './embedder-choice.js';
import type { VectorParts } from './vector-parts.js';
import { VectorIndex } from './vector/vector-index.js';
import { DEFAULT_SECRET_POLICY } from './firewall/secret-guard.js';
import { DEFAULT_INJECTION_POLICY } from './firewall/injection-guard.js';
import { reviewQueue, type ReviewQueue } from './memory/review.js';

/** The long-lived parts shared by every connection: storage, embeddings, vector index, audit trail. */
export interface Runtime {
  readonly store: MemoryStore;
  readonly memory: MemoryContext;
  /** Memories held for review (injected instructions): listed, approved, rejected. */
  readonly review: ReviewQueue;
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

export interface RuntimeParts {
  store: MemoryStore;
  logger: Logger;
  settings: Pick<Config, 'namespace' | 'maxContentBytes' | 'maxMetadataBytes'> & Partial<Pick<Config, 'secrets' | 'secretsByNamespace' | 'injections' | 'injectionsOwn' | 'injectionsByNamespace'>>;
  /** The tenant this runtime serves (absent: the local one): `tenant/namespace` entries of --injections-by-namespace are its own. */
  tenant?: string;
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

  // Background re-embedding: one pass when an embedder becomes active, and again whenever a write had to store records without vectors.
  const reembed = new ReembedScheduler(store, logger, parts.reembedBatch ?? null, abort.signal, () => memory.vectors?.catchUp());

  const memory: Mutable<MemoryContext> = {
    store,
    logger,
    indexer: createTextIndexer(null, logger),
    vectors: null,
    embedder: null,
    fusion: parts.fusion ?? DEFAULT_FUSION['sentence-transformer'],
    context: parts.context ?? DEFAULT_CONTEXT,
    softAndWeight: parts.softAndWeight ?? DEFAULT_SOFT_AND,
    speakerBoost: parts.speakerBoost ?? DEFAULT_SPEAKER_BOOST,
    modelNote: parts.modelNote ?? null,
    defaultNamespace: settings.namespace,
    limits: { maxContentBytes: settings.maxContentBytes, maxMetadataBytes: settings.maxMetadataBytes },
    secrets: { action: settings.secrets ?? DEFAULT_SECRET_POLICY.action, byNamespace: new Map(settings.secretsByNamespace ?? []) },
    injections: {
      untrusted: settings.injections ?? DEFAULT_INJECTION_POLICY.untrusted,
      own: settings.injectionsOwn ?? DEFAULT_INJECTION_POLICY.own,
      byNamespace: new Map(settings.injectionsByNamespace ?? []),
      tenant: parts.tenant ?? null,
    },
    now: () => new Date().toISOString(),
  };

  /** Give the runtime its embedder: the vector leg, vectors for new records, and re-embedding of the ones lacking them. */
  const activate = (embedder: Embedder, where: VectorParts): Promise<number> => {
    const opening = typeof where.vectorIndex === 'function' ? where.vectorIndex(abort.signal) : where.vectorIndex;
    const vectors = where.databaseVectors ? createDatabaseVectorSearch(embedder, where.databaseVectors) : opening ? createVectorSearch(embedder, opening, store, logger) : null;
    if (vectors) openings.push(vectors.opened());
    else if (opening) openings.push(Promise.resolve(opening).catch(() => null));
    // A local index only (the database's own vector search has nothing to open); not when closing stopped the load.
    if (vectors && opening && !where.databaseVectors) {
      void vectors.opened().then((index) => {
        if (!abort.signal.aborted) noticeIndexStart(notices, index === null ? null : index.stats().start, index?.stats().vectors ?? 0);
      });
    }
    activeEmbedder = embedder;
    memory.embedder = embedder;
    memory.vectors = vectors;
    memory.indexer = createTextIndexer(embedder, logger, reembed.missed);
    return reembed.activate(embedder);
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
    review: reviewQueue(memory),
    async close() {
      // Stops a load still in progress (the next start reads it again); an open index saves its snapshot.
      abort.abort();
      unsubscribe();
      reembed.stop();
      if (parts.pending && !parts.sharedEmbedder) await parts.pending.embedder.stop();
      if (!parts.sharedEmbedder) {
        // A batch in flight to an embedding service that hangs would hold the shutdown for its timeouts: give it a moment, then close the embedder under it.
        await Promise.race([Promise.all([reembedding, reembed.running]), sleep(CLOSE_GRACE_MS, undefined, { ref: false })]);
        await activeEmbedder?.close();
      }
      await reembedding;
      await reembed.running;
      for (const index of await Promise.all(openings)) await index?.close();
      if (!parts.warnings) warnings.close();
      await store.close();
    },
  };
}
