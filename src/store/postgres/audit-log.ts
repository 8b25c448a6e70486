import type pg from 'pg';
import { parseJson } from '../json.js';
import { auditLimit, auditWhere } from '../audit-query.js';
import type { AuditQuery, AuditRow, NumberedAuditRow } from '../store.js';
import { query } from './pool.js';

type StoredAuditRow = Omit<AuditRow, 'ids_touched' | 'ids_returned'> & { ids_touched: string; ids_returned: string };

/**
 * A condition that is always true and, unless the boolean parameter named is,
 * turns synchronous commit off for the statement's own transaction (a
 * statement outside a transaction block is one): SET LOCAL in the same round trip.
 */
const LAZY_COMMIT_UNLESS = (durable: string): string =>
  `CASE WHEN ${durable}::boolean THEN TRUE ELSE set_config('synchronous_commit', 'off', true) IS NOT NULL END`;

/** Rows read per query while exporting. */
const EXPORT_PAGE = 1000;

/**
 * The append-only audit table, as in the SQLite backend (audit-rows.ts): a
 * session's client name and version stored once, in audit_sessions; each
 * row committed before the call is answered. Appending is one statement,
 * so a row costs one round trip.
 *
 * A row of a call that changed nothing (`durable` false: searches, reads,
 * refusals) is committed without waiting for the WAL to reach the disk
 * (synchronous_commit off for its own transaction, set in the same
 * statement): the WAL writer flushes it within a few hundred milliseconds,
 * and any later synchronous commit carries it to disk first. The wait was
 * about 0.9 ms of a keyword search's 5.
 */
/** Audit rows with the client named by their session when the row itself does not (it is stored once per session). */
const SELECT_ROWS = `SELECT a.seq, a.at, a.tool, a.namespace,
    COALESCE(a.client_name, s.client_name) AS client_name, COALESCE(a.client_version, s.client_version) AS client_version,
    a.session_id, a.args_sha256, a.args_bytes, a.status, a.error_code, a.duration_ms, a.ids_touched, a.ids_returned,
    a.principal_id, a.tenant, a.remote_address
  FROM audit_log a LEFT JOIN audit_sessions s ON s.session_id = a.session_id`;

/** A stored row with its id lists read back from JSON. */
const withIdLists = <T extends StoredAuditRow>(row: T): Omit<T, 'ids_touched' | 'ids_returned'> & Pick<AuditRow, 'ids_touched' | 'ids_returned'> => ({
  ...row,
  ids_touched: parseJson<string[]>(row.ids_touched, []),
  ids_returned: parseJson<string[]>(row.ids_returned, []),
});

export class AuditLog {
  constructor(private readonly db: pg.Pool) {}

  async append(row: AuditRow, durable = true): Promise<number> {
    const withSession = row.session_id !== null && (row.client_name !== null || row.client_version !== null);
    const [stored] = await query<{ seq: number }>(
      this.db,
      `WITH session AS (
         INSERT INTO audit_sessions (session_id, first_seen_at, client_name, client_version)
         SELECT $4, $1, $15, $16 WHERE $17::boolean
         ON CONFLICT (session_id) DO NOTHING
       )
       INSERT INTO audit_log (at, tool, namespace, session_id, args_sha256, args_bytes, status, error_code,
         duration_ms, ids_touched, ids_returned, principal_id, tenant, remote_address)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
       WHERE ${LAZY_COMMIT_UNLESS('$18')}
       RETURNING seq`,
      [
        row.at, row.tool, row.namespace, row.session_id, row.args_sha256, row.args_bytes, row.status, row.error_code, row.duration_ms,
        JSON.stringify(row.ids_touched), JSON.stringify(row.ids_returned), row.principal_id ?? null, row.tenant ?? null, row.remote_address ?? null,
        row.client_name, row.client_version, withSession, durable,
      ],
    );
    return stored!.seq;
  }

  async complete(seq: number, row: AuditRow, durable = true): Promise<void> {
    await query(
      this.db,
      `UPDATE audit_log SET namespace = $1, status = $2, error_code = $3, duration_ms = $4, ids_touched = $5, ids_returned = $6
       WHERE seq = $7 AND ${LAZY_COMMIT_UNLESS('$8')}`,
      [row.namespace, row.status, row.error_code, row.duration_ms, JSON.stringify(row.ids_touched), JSON.stringify(row.ids_returned), seq, durable],
    );
  }

  /** A page of rows, newest first (see MemoryStore.readAudit). */
  async read(auditQuery: AuditQuery): Promise<NumberedAuditRow[]> {
    const params: unknown[] = [];
    const where = auditWhere(auditQuery, (value) => (params.push(value), `$${params.length}`), (column, needle) => `strpos(${column}, ${needle}) > 0`);
    const rows = await query<StoredAuditRow & { seq: string | number }>(
      this.db,
      `${SELECT_ROWS} ${where} ORDER BY a.seq DESC LIMIT ${auditLimit(auditQuery)}`,
      params,
    );
    return rows.map((row) => ({ ...withIdLists(row), seq: Number(row.seq) }));
  }

  /** Rows in order, a page at a time, so an export never holds the whole trail in memory. */
  async *export(since = ''): AsyncIterable<AuditRow> {
    for (let after = 0; ; ) {
      const page = await query<StoredAuditRow & { seq: number }>(
        this.db,
        `${SELECT_ROWS} WHERE a.at >= $1 AND a.seq > $2 ORDER BY a.seq LIMIT ${EXPORT_PAGE}`,
        [since, after],
      );
      for (const { seq, ...row } of page) {
        yield withIdLists(row);
        after = seq;
      }
      if (page.length < EXPORT_PAGE) return;
    }
  }
}
