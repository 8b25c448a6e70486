import type { IdempotencyClaim } from '../domain/errors.js';
import type { Origin } from '../domain/provenance.js';
import type { SecretPolicy } from '../firewall/secret-guard.js';
import type { InjectionPolicy } from '../firewall/injection-guard.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { ContextScoring } from './context-scoring.js';
import type { Logger } from '../logging.js';
import type { MemoryStore } from '../store/store.js';
import type { TextIndexer } from './text-indexer.js';
import type { VectorSearch } from './vector-search.js';

/** What every use case needs: the store, the limits and the default namespace. */
export interface MemoryContext {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Makes the text and vector each new or changed record is indexed by. */
  readonly indexer: TextIndexer;
  /** The semantic leg of search; null when no embedder is available. */
  readonly vectors: VectorSearch | null;
  /** The active embedding model, or null when vectors are disabled. */
  readonly embedder: Embedder | null;
  readonly fusion: FusionSettings;
  /** Thread-neighbour scoring of keyword hits (see context-scoring.ts). */
  readonly context: ContextScoring;
  /** How strongly keyword hits are rewarded for containing more of the query's words (see soft-and.ts). */
  readonly softAndWeight: number;
  /** How much keyword hits gain when the query names their speaker or author (see speaker-boost.ts). */
  readonly speakerBoost: number;
  /** Why the configured embedding model is not the active one, when it is not. */
  readonly modelNote: string | null;
  readonly defaultNamespace: string;
  readonly limits: {
    readonly maxContentBytes: number;
    readonly maxMetadataBytes: number;
  };
  /** What writes do with secrets in their text, by namespace. */
  readonly secrets: SecretPolicy;
  /** What writes do with text the injection detector flags, by origin, tenant and namespace. */
  readonly injections: InjectionPolicy;
  /** The current time as an ISO string; replaceable in tests. */
  now(): string;
}

/** Who is calling: used as the default `source` and the provenance of what they store. */
export interface Caller {
  /** The client's name, bounded (domain/client-label.ts). */
  readonly clientName: string | null;
  /**
   * The principal making the call (an API key's id, "local", jwt:…), as the audit trail records it: who wrote
   * what it stores (absent: not recorded), and whose returned records count as recalled for its goals (recall.ts).
   */
  readonly principalId?: string;
  /** The origin of what it stores when a write names none (memory/provenance.ts); absent: `agent`. */
  readonly defaultOrigin?: Origin;
  /** Aborted when the client cancels the call: long reads (searches) stop early; a write that has begun completes. */
  readonly signal?: AbortSignal;
  /** Set when the call carries an idempotency key: the write claims it in its own transaction. */
  readonly idempotency?: IdempotencyClaim;
  /** A namespace-limited principal: searches draw every score from the namespace searched alone (see search.ts). */
  readonly confined?: boolean;
  /** An admin: may read memories held for review by id (get_memory, the review queue); no one else sees them. */
  readonly reviewer?: boolean;
  /**
   * Told how far a long call has come, when the client asked to be told (an
   * MCP progress token); `progress` grows with every report, up to `total`.
   */
  readonly progress?: (progress: number, total: number, message: string) => void;
}

/**
 * How hybrid search joins its two legs: weighted reciprocal rank fusion
 * (score = Σ weight / (k + rank)), or, for a weak embedder, the vector leg as
 * a tie breaker among the keyword leg's first hits (fusion.ts, tieBreakFusion).
 */
export const FUSION_METHODS = ['rrf', 'tie-break'] as const;
export type FusionMethod = (typeof FUSION_METHODS)[number];

export interface FusionSettings {
  /** Default 'rrf'. */
  readonly method?: FusionMethod;
  readonly keywordWeight: number;
  readonly vectorWeight: number;
  readonly rrfK: number;
}
