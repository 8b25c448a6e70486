import type { Memory } from '../domain/memory.js';
import type { Origin } from '../domain/provenance.js';
import type { RecordType, SearchFilters } from '../domain/search.js';
import type { TrustLevel } from '../domain/trust.js';

/* What a search asks a store for (filters, keyword and recent queries) and what it answers (hits, windows, doc views). */

/** Filters as the store applies them, already normalised. */
export interface StoreFilters {
  namespace: string | null;
  layers?: SearchFilters['layers'];
  kinds?: readonly string[];
  types?: readonly RecordType[];
  /** Only records stored with one of these origins (records without provenance match none). */
  origins?: readonly Origin[];
  /** Only records trusted at least this much (domain/trust.ts); absent or `low`: all. */
  min_trust?: Exclude<TrustLevel, 'low'>;
  tags_any?: readonly string[];
  tags_all?: readonly string[];
  goal_id?: string;
  time_field: 'occurred_at' | 'created_at';
  since?: string;
  until?: string;
  include_superseded: boolean;
  /**
   * The caller may read only `namespace` (a namespace-limited key): nothing in
   * the answer may depend on other namespaces' records. Keyword scores take
   * their statistics (row count, mean length, word counts, the row budget's
   * choices) from the namespace alone, and the vector leg scans its vectors
   * exactly instead of walking the graph every namespace shares.
   */
  confined?: boolean;
}

/**
 * Nearest-neighbour search done by the database itself (PostgreSQL with
 * pgvector), for a backend that keeps no local vector index: the k visible
 * records nearest to the vector that pass the filters, nearest first, with
 * their cosine similarity.
 */
export interface NearestVectors {
  nearest(modelKey: string, vector: Float32Array, filters: StoreFilters, k: number): Promise<Array<{ doc_id: number; similarity: number }>>;
  /** The cosine similarity to the vector of each given record that has one stored for the model (no neighbour search), in any order. */
  similarities(modelKey: string, vector: Float32Array, docIds: readonly number[]): Promise<Array<{ doc_id: number; similarity: number }>>;
}

/** A keyword search in a scope holding at least this share of the store filters its best matches instead of joining every match. */
export const BROAD_SCOPE_SHARE = 0.1;

/** True when the filters admit every visible record (all namespaces, nothing else set). */
export function admitsAllVisible(filters: StoreFilters): boolean {
  return (
    filters.namespace === null &&
    !filters.layers?.length &&
    !filters.kinds?.length &&
    !filters.types?.length &&
    !filters.origins?.length &&
    filters.min_trust === undefined &&
    !filters.tags_any?.length &&
    !filters.tags_all?.length &&
    filters.goal_id === undefined &&
    filters.since === undefined &&
    filters.until === undefined
  );
}

export interface KeywordQuery {
  /** Plain lower-case words (see query-terms.ts); each backend builds its own query syntax from them. */
  terms: readonly string[];
  filters: StoreFilters;
  limit: number;
}

export interface RecentQuery {
  filters: StoreFilters;
  limit: number;
}

export interface KeywordHit {
  doc_id: number;
  /** Higher is better (negated bm25). */
  score: number;
  /**
   * How many of the query's terms the record holds, as the full-text index
   * matched them (stemmed); set by a keyword search that scored every term,
   * absent otherwise.
   */
  matched?: number;
}

/** A matching thread window: its middle memory (doc_id) and the neighbours it holds. */
export interface WindowHit extends KeywordHit {
  before: number | null;
  after: number | null;
}

export interface DocView {
  doc_id: number;
  type: RecordType;
  entity_id: string;
  namespace: string;
  layer: Memory['layer'] | null;
  kind: string;
  text: string;
  tags: string[];
  goal_id: string | null;
  occurred_at: string;
  hidden: boolean;
  thread_id: string | null;
  thread_position: number | null;
  /** Where the record's text came from; null: not recorded. */
  origin: Origin | null;
  /** The injection detector's verdict on the record (a step: its goal's): its signals, [] none, null not scanned. */
  injection: string[] | null;
}
