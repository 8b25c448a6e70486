/**
 * What a store migration reads from both ends besides the MemoryStore
 * interface: rows the interface has no reader for (idempotency records,
 * model identities), the map between records and their search doc ids
 * (which differ between two stores), and the keyword index's statistics
 * and postings. The SQLite source (sqlite-source.ts) and the PostgreSQL
 * target (postgres-target.ts) each read their own tables for it.
 */
export interface StoreTables {
  /** Idempotency records in key order, after `afterKey` ('' from the start). */
  idempotency(afterKey: string, limit: number): Promise<IdempotencyRecord[]>;
  /** Registered embedding models, by key. */
  models(): Promise<ModelRecord[]>;
  /** Search docs (memories, goals, plan steps) in entity id order, after `afterEntity` ('' from the start). */
  docs(afterEntity: string, limit: number): Promise<Array<{ entity_id: string; doc_id: number }>>;
  /** The doc ids of these records (entity ids); records not stored are left out. */
  docIdsOf(entityIds: readonly string[]): Promise<Map<string, number>>;
  /** The records (entity ids) of these doc ids; docs not stored are left out. */
  entityIdsOf(docIds: readonly number[]): Promise<Map<number, string>>;
  /** Rows and tokens of each keyword index, as BM25 reads them (every row ever indexed: see doc-index.ts). */
  keywordTotals(): Promise<KeywordTotals>;
  /**
   * Every posting of a keyword index (`docs`: the records', `windows`: the
   * thread windows', each named by its middle memory): which term a record
   * holds, how often. Any order, a page at a time.
   */
  postings(index: 'docs' | 'windows', visit: (page: Posting[]) => void): Promise<void>;
}

export interface IdempotencyRecord {
  key: string;
  tool: string;
  args_sha256: string;
  /** The first call's structured result as JSON text, once recorded. */
  result: string | null;
  created_at: string;
}

export interface ModelRecord {
  model_key: string;
  model_id: string;
  dimension: number;
  fingerprint: string;
  first_used: string;
}

export interface KeywordTotals {
  docs: { rows: number; tokens: number };
  windows: { rows: number; tokens: number };
}

export interface Posting {
  entity_id: string;
  term: string;
  tf: number;
}

/** An audit row as stored (its own client columns, set on rows written before sessions were kept apart), with its place in the trail. */
export interface StoredAuditRow {
  seq: number;
  at: string;
  tool: string;
  namespace: string | null;
  client_name: string | null;
  client_version: string | null;
  session_id: string | null;
  args_sha256: string;
  args_bytes: number;
  status: string;
  error_code: string | null;
  duration_ms: number;
  ids_touched: string;
  ids_returned: string;
  principal_id: string | null;
  tenant: string | null;
  remote_address: string | null;
}

/** What a session said about its client, stored once (see the SQLite migration 0014). */
export interface AuditSession {
  session_id: string;
  first_seen_at: string;
  client_name: string | null;
  client_version: string | null;
}
