import type pg from 'pg';
import { quoteIdent } from '../store/postgres/pool.js';
import type { AuditSession, IdempotencyRecord, KeywordTotals, ModelRecord, Posting, StoreTables, StoredAuditRow } from './tables.js';

/** Docs whose postings are read per query (a few hundred terms each at most). */
const POSTINGS_DOCS = 500;

/** Rows sent per INSERT (each takes a parameter per column; PostgreSQL allows 65,535). */
const ROWS_PER_INSERT = 500;

const AUDIT_COLUMNS = [
  'at', 'tool', 'namespace', 'client_name', 'client_version', 'session_id', 'args_sha256', 'args_bytes', 'status', 'error_code',
  'duration_ms', 'ids_touched', 'ids_returned', 'principal_id', 'tenant', 'remote_address',
] as const;

/** `($1, $2, …), ($n+1, …)` for `rows` rows of `width` values each. */
function valuesList(rows: number, width: number): string {
  return Array.from({ length: rows }, (_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ');
}

/**
 * The tables of a tenant's PostgreSQL schema (src/store/postgres/migrations.ts)
 * that a migration writes or reads besides the MemoryStore interface, over
 * one connection of its own, every name qualified with the schema (a server
 * multiplexing clients onto one session shares one search path among them).
 *
 * Resuming an interrupted migration needs no bookkeeping for records (a
 * record whose id is stored is skipped) nor for idempotency records, models
 * and speaker names (inserted unless present). The audit trail has no id to
 * skip by: its rows are copied in the source's order, a batch at a time,
 * each batch in one transaction with the source sequence number it reached,
 * kept in this schema's `pinak_migration` table. A run killed at any point
 * has copied whole batches and recorded exactly those; the next starts after
 * them, so no row is copied twice or left out, whatever else has been
 * written to the trail since.
 */
export class PostgresTarget implements StoreTables {
  private readonly s: string;

  constructor(
    private readonly client: pg.Client,
    readonly schema: string,
  ) {
    this.s = quoteIdent(schema);
  }

  /**
   * Create the progress table if needed, and hold this schema's migration
   * lock for as long as the connection lives: a second migration into the
   * same tenant at once is refused rather than interleaved.
   */
  async prepare(): Promise<void> {
    const { rows } = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [`pinak-migrate-store:${this.schema}`]);
    if (!rows[0]?.locked) throw new Error(`another migrate-store is copying into the schema ${this.schema}; wait for it to end`);
    await this.client.query(`CREATE TABLE IF NOT EXISTS ${this.s}.pinak_migration (name TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)`);
  }

  /** The source audit sequence number the copy has reached (0: none copied). */
  async auditSeq(): Promise<number> {
    const { rows } = await this.client.query<{ value: string }>(`SELECT value FROM ${this.s}.pinak_migration WHERE name = 'audit_seq'`);
    return rows[0] ? Number(rows[0].value) : 0;
  }

  /** Sessions' client facts, each stored once (present ones are left as they are). */
  async copySessions(sessions: readonly AuditSession[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < sessions.length; i += ROWS_PER_INSERT) {
      const batch = sessions.slice(i, i + ROWS_PER_INSERT);
      const result = await this.client.query(
        `INSERT INTO ${this.s}.audit_sessions (session_id, first_seen_at, client_name, client_version) VALUES ${valuesList(batch.length, 4)}
         ON CONFLICT (session_id) DO NOTHING`,
        batch.flatMap((row) => [row.session_id, row.first_seen_at, row.client_name, row.client_version]),
      );
      added += result.rowCount ?? 0;
    }
    return added;
  }

  /**
   * Append audit rows as stored in the source (their own client columns too,
   * so the export reads them back exactly), in order, and record the last
   * one's source sequence number, in one transaction. Refused, changing
   * nothing, when the recorded number is not `afterSeq`: another copy has
   * moved on meanwhile.
   */
  async appendAudit(rows: readonly StoredAuditRow[], afterSeq: number): Promise<void> {
    if (rows.length === 0) return;
    await this.client.query('BEGIN');
    try {
      await this.client.query(`INSERT INTO ${this.s}.pinak_migration (name, value) VALUES ('audit_seq', '0') ON CONFLICT (name) DO NOTHING`);
      const { rows: at } = await this.client.query<{ value: string }>(`SELECT value FROM ${this.s}.pinak_migration WHERE name = 'audit_seq' FOR UPDATE`);
      if (Number(at[0]!.value) !== afterSeq) throw new Error(`the audit copy into ${this.schema} moved on from row ${afterSeq} meanwhile; run migrate-store again`);
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const batch = rows.slice(i, i + ROWS_PER_INSERT);
        // VALUES rows are inserted in the order given: the trail's sequence numbers keep the source's order.
        await this.client.query(
          `INSERT INTO ${this.s}.audit_log (${AUDIT_COLUMNS.join(', ')}) VALUES ${valuesList(batch.length, AUDIT_COLUMNS.length)}`,
          batch.flatMap((row) => AUDIT_COLUMNS.map((column) => row[column])),
        );
      }
      await this.client.query(`UPDATE ${this.s}.pinak_migration SET value = $1 WHERE name = 'audit_seq'`, [String(rows.at(-1)!.seq)]);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  /** Store idempotency records as they are; returns how many were new. */
  async copyIdempotency(records: readonly IdempotencyRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const result = await this.client.query(
      `INSERT INTO ${this.s}.idempotency_keys (key, tool, args_sha256, result, created_at) VALUES ${valuesList(records.length, 5)}
       ON CONFLICT (key) DO NOTHING`,
      records.flatMap((row) => [row.key, row.tool, row.args_sha256, row.result, row.created_at]),
    );
    return result.rowCount ?? 0;
  }

  /** Speaker and author names, in the order given (the source's, first seen first), each once. */
  async copySpeakerNames(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.client.query(
      `INSERT INTO ${this.s}.speaker_names (name) SELECT name FROM unnest($1::text[]) WITH ORDINALITY AS given(name, position) ORDER BY position
       ON CONFLICT (name) DO NOTHING`,
      [[...names]],
    );
  }

  /** Model identities as first registered (the time too); present ones are left as they are. */
  async copyModels(models: readonly ModelRecord[]): Promise<void> {
    for (const model of models) {
      await this.client.query(
        `INSERT INTO ${this.s}.embedding_models (model_key, model_id, dimension, fingerprint, first_used) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (model_key) DO NOTHING`,
        [model.model_key, model.model_id, model.dimension, model.fingerprint, model.first_used],
      );
    }
  }

  /**
   * Make the keyword indexes' statistics the source's. FTS5 counts every row
   * ever indexed, deleted and rewritten ones too, and BM25 reads them so;
   * the copy indexed each record and window once or a few times, so without
   * this every keyword score would differ slightly from the source's. One
   * statement per index, adding the difference: running it again changes nothing.
   */
  async matchKeywordTotals(source: KeywordTotals): Promise<void> {
    for (const index of ['docs', 'windows'] as const) {
      await this.client.query(
        `INSERT INTO ${this.s}.fts_totals (name, slot, rows, tokens)
           SELECT $1, 0, $2::bigint - COALESCE(SUM(rows), 0), $3::bigint - COALESCE(SUM(tokens), 0) FROM ${this.s}.fts_totals WHERE name = $1
         ON CONFLICT (name, slot) DO UPDATE SET rows = fts_totals.rows + excluded.rows, tokens = fts_totals.tokens + excluded.tokens`,
        [index, source[index].rows, source[index].tokens],
      );
    }
  }

  async idempotency(afterKey: string, limit: number): Promise<IdempotencyRecord[]> {
    const { rows } = await this.client.query<IdempotencyRecord>(
      `SELECT key, tool, args_sha256, result, created_at FROM ${this.s}.idempotency_keys WHERE key > $1 ORDER BY key LIMIT $2`,
      [afterKey, limit],
    );
    return rows;
  }

  async models(): Promise<ModelRecord[]> {
    const { rows } = await this.client.query<ModelRecord>(`SELECT model_key, model_id, dimension, fingerprint, first_used FROM ${this.s}.embedding_models ORDER BY model_key`);
    return rows;
  }

  async docs(afterEntity: string, limit: number): Promise<Array<{ entity_id: string; doc_id: number }>> {
    const { rows } = await this.client.query<{ entity_id: string; doc_id: string }>(
      `SELECT entity_id, doc_id FROM ${this.s}.search_docs WHERE entity_id > $1 ORDER BY entity_id LIMIT $2`,
      [afterEntity, limit],
    );
    return rows.map((row) => ({ entity_id: row.entity_id, doc_id: Number(row.doc_id) }));
  }

  async docIdsOf(entityIds: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await this.client.query<{ entity_id: string; doc_id: string }>(
      `SELECT entity_id, doc_id FROM ${this.s}.search_docs WHERE entity_id = ANY($1::text[])`,
      [[...entityIds]],
    );
    return new Map(rows.map((row) => [row.entity_id, Number(row.doc_id)]));
  }

  async entityIdsOf(docIds: readonly number[]): Promise<Map<number, string>> {
    const { rows } = await this.client.query<{ entity_id: string; doc_id: string }>(
      `SELECT entity_id, doc_id FROM ${this.s}.search_docs WHERE doc_id = ANY($1::bigint[])`,
      [[...docIds]],
    );
    return new Map(rows.map((row) => [Number(row.doc_id), row.entity_id]));
  }

  async keywordTotals(): Promise<KeywordTotals> {
    const { rows } = await this.client.query<{ name: 'docs' | 'windows'; rows: string; tokens: string }>(
      `SELECT name, SUM(rows) AS rows, SUM(tokens) AS tokens FROM ${this.s}.fts_totals GROUP BY name`,
    );
    const totals: KeywordTotals = { docs: { rows: 0, tokens: 0 }, windows: { rows: 0, tokens: 0 } };
    for (const row of rows) totals[row.name] = { rows: Number(row.rows), tokens: Number(row.tokens) };
    return totals;
  }

  async postings(index: 'docs' | 'windows', visit: (page: Posting[]) => void): Promise<void> {
    const table = index === 'docs' ? 'doc_terms' : 'window_terms';
    const { rows: top } = await this.client.query<{ max: string | null }>(`SELECT MAX(doc_id) AS max FROM ${this.s}.${table}`);
    const last = Number(top[0]?.max ?? 0);
    // By ranges of doc ids (its index), which hold about a page of postings each.
    for (let from = 0; from < last; from += POSTINGS_DOCS) {
      const { rows } = await this.client.query<Posting>(
        `SELECT d.entity_id, t.term, t.tf FROM ${this.s}.${table} t JOIN ${this.s}.search_docs d ON d.doc_id = t.doc_id WHERE t.doc_id > $1 AND t.doc_id <= $2`,
        [from, from + POSTINGS_DOCS],
      );
      if (rows.length > 0) visit(rows);
    }
  }
}
