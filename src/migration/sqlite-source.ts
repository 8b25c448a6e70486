import Database from 'better-sqlite3';
import { parseJson } from '../store/json.js';
import { varintsFromHex } from '../store/sqlite/doc-lengths.js';
import type { AuditSession, IdempotencyRecord, KeywordTotals, ModelRecord, Posting, StoreTables, StoredAuditRow } from './tables.js';

/** Postings handed to the visitor at a time. */
const POSTINGS_PAGE = 10_000;

/**
 * The tables of a SQLite store (src/store/sqlite/migrations) that a
 * migration reads besides the MemoryStore interface, over a read-only
 * connection of its own. Open it after the store itself, which brings the
 * file to the current schema.
 */
export class SqliteSource implements StoreTables {
  private constructor(private readonly db: Database.Database) {}

  static open(file: string, busyTimeoutMs: number): SqliteSource {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    try {
      // FTS5's own views of its index (per connection, in the temp schema: nothing is written to the file).
      for (const table of ['search_fts', 'window_fts']) {
        db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."migrate_${table}_instances" USING fts5vocab(main, "${table}", instance)`);
      }
      return new SqliteSource(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Memory ids after `afterId` ('' from the start), oldest first (ids grow with time). */
  memoryIdsAfter(afterId: string, limit: number): string[] {
    return this.db.prepare('SELECT id FROM memories WHERE id > ? ORDER BY id LIMIT ?').pluck().all(afterId, limit) as string[];
  }

  /** For each memory some memory supersedes, the last one (the greatest id) that does, with when it was stored. */
  lastSuperseders(): Map<string, { id: string; created_at: string }> {
    const rows = this.db.prepare('SELECT id, supersedes, created_at FROM memories WHERE supersedes IS NOT NULL ORDER BY id').all() as Array<{ id: string; supersedes: string; created_at: string }>;
    return new Map(rows.map((row) => [row.supersedes, { id: row.id, created_at: row.created_at }]));
  }

  /** What outcomes say of the step their memories report on (see noteOutcomeStep). */
  outcomeSteps(): Array<{ step_id: string; summary_memory_id: string; lesson_memory_ids: string[] }> {
    const rows = this.db.prepare('SELECT step_id, summary_memory_id, lesson_memory_ids FROM outcomes WHERE step_id IS NOT NULL').all() as Array<{ step_id: string; summary_memory_id: string; lesson_memory_ids: string }>;
    return rows.map((row) => ({ ...row, lesson_memory_ids: parseJson<string[]>(row.lesson_memory_ids, []) }));
  }

  /** Audit rows after sequence number `seq`, in order, as stored. */
  auditAfter(seq: number, limit: number): StoredAuditRow[] {
    return this.db
      .prepare(`SELECT seq, at, tool, namespace, client_name, client_version, session_id, args_sha256, args_bytes, status, error_code,
          duration_ms, ids_touched, ids_returned, principal_id, tenant, remote_address
        FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`)
      .all(seq, limit) as StoredAuditRow[];
  }

  /** How many audit rows come after sequence number `seq`. */
  auditRowsAfter(seq: number): number {
    return this.db.prepare('SELECT COUNT(*) FROM audit_log WHERE seq > ?').pluck().get(seq) as number;
  }

  /** Sessions' client facts after `afterId` ('' from the start), by id. */
  auditSessions(afterId: string, limit: number): AuditSession[] {
    return this.db.prepare('SELECT session_id, first_seen_at, client_name, client_version FROM audit_sessions WHERE session_id > ? ORDER BY session_id LIMIT ?').all(afterId, limit) as AuditSession[];
  }

  idempotencyCount(): number {
    return this.db.prepare('SELECT COUNT(*) FROM idempotency_keys').pluck().get() as number;
  }

  /** How many records have a vector of each model. */
  vectorCounts(): Map<string, number> {
    const rows = this.db.prepare('SELECT model_key, COUNT(*) AS n FROM doc_vectors GROUP BY model_key').all() as Array<{ model_key: string; n: number }>;
    return new Map(rows.map((row) => [row.model_key, row.n]));
  }

  async idempotency(afterKey: string, limit: number): Promise<IdempotencyRecord[]> {
    return this.db.prepare('SELECT key, tool, args_sha256, result, created_at FROM idempotency_keys WHERE key > ? ORDER BY key LIMIT ?').all(afterKey, limit) as IdempotencyRecord[];
  }

  async models(): Promise<ModelRecord[]> {
    return this.db.prepare('SELECT model_key, model_id, dimension, fingerprint, first_used FROM embedding_models ORDER BY model_key').all() as ModelRecord[];
  }

  async docs(afterEntity: string, limit: number): Promise<Array<{ entity_id: string; doc_id: number }>> {
    return this.db.prepare('SELECT entity_id, doc_id FROM search_docs WHERE entity_id > ? ORDER BY entity_id LIMIT ?').all(afterEntity, limit) as Array<{ entity_id: string; doc_id: number }>;
  }

  async docIdsOf(entityIds: readonly string[]): Promise<Map<string, number>> {
    const rows = this.db
      .prepare('SELECT entity_id, doc_id FROM search_docs WHERE entity_id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(entityIds)) as Array<{ entity_id: string; doc_id: number }>;
    return new Map(rows.map((row) => [row.entity_id, row.doc_id]));
  }

  async entityIdsOf(docIds: readonly number[]): Promise<Map<number, string>> {
    const rows = this.db
      .prepare('SELECT doc_id, entity_id FROM search_docs WHERE doc_id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(docIds)) as Array<{ entity_id: string; doc_id: number }>;
    return new Map(rows.map((row) => [row.doc_id, row.entity_id]));
  }

  /** FTS5's "averages" record (rowid 1 of each table's data): its row count, then its tokens (see bm25.ts). */
  async keywordTotals(): Promise<KeywordTotals> {
    const of = (table: string): { rows: number; tokens: number } => {
      const hex = this.db.prepare(`SELECT hex(block) FROM "${table}_data" WHERE id = 1`).pluck().get() as string | undefined;
      const [rows = 0, tokens = 0] = varintsFromHex(hex ?? '');
      return { rows, tokens };
    };
    return { docs: of('search_fts'), windows: of('window_fts') };
  }

  async postings(index: 'docs' | 'windows', visit: (page: Posting[]) => void): Promise<void> {
    const table = index === 'docs' ? 'search_fts' : 'window_fts';
    const rows = this.db
      .prepare(`SELECT d.entity_id, i.term, COUNT(*) AS tf FROM temp."migrate_${table}_instances" i JOIN search_docs d ON d.doc_id = i.doc GROUP BY i.doc, i.term`)
      .iterate() as Iterable<Posting>;
    let page: Posting[] = [];
    for (const row of rows) {
      page.push(row);
      if (page.length >= POSTINGS_PAGE) {
        visit(page);
        page = [];
      }
    }
    if (page.length > 0) visit(page);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
