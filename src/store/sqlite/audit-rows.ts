import type { Database, Statement, Transaction } from 'better-sqlite3';
import { auditLimit, auditWhere } from '../audit-query.js';
import type { AuditQuery, AuditRow, NumberedAuditRow } from '../store.js';
import { parseJson } from '../json.js';
import type { PageQuota } from './page-quota.js';

type StoredAuditRow = Omit<AuditRow, 'ids_touched' | 'ids_returned'> & { ids_touched: string; ids_returned: string };

/** How long a row of a call that changed nothing may wait for a durable commit to carry it to disk. */
const LAZY_SYNC_MS = 1000;

/** Sessions whose facts this connection has stored, remembered up to this many (then re-checked by the insert). */
const MAX_KNOWN_SESSIONS = 10_000;

/**
 * The append-only audit table. Every row is committed before the call is
 * answered, so a crash of the process loses none. Rows of calls that wrote
 * something are synced to disk like the write (synchronous=FULL). Rows of
 * calls that changed nothing (searches, reads, refusals) skip the sync: in
 * WAL mode the next synced commit makes them durable too, and one of them
 * syncs at least once a second. A search paid about 1 ms for its audit
 * row's fsync, as much as the search itself at 100,000 memories.
 *
 * A session's client name and version are stored once, in audit_sessions
 * (migration 0014), not on each row. Rows may use the size limit's reserve
 * (page-quota.ts); when even that is full, appending throws, and the caller
 * refuses the call rather than answer it unrecorded.
 */
export class AuditRows {
  private readonly insert: Statement;
  private readonly rewrite: Statement;
  private readonly insertSession: Statement;
  private readonly since: Statement;
  private readonly appendTx: Transaction<(row: AuditRow) => { seq: number; newSession: string | null }>;
  private readonly knownSessions = new Set<string>();
  private readonly syncNormal: Statement;
  private readonly syncFull: Statement;
  private syncedAt = 0;

  constructor(
    private readonly db: Database,
    private readonly quota: PageQuota | null = null,
  ) {
    this.insert = db.prepare(`INSERT INTO audit_log
      (at, tool, namespace, client_name, client_version, session_id, args_sha256, args_bytes, status, error_code,
       duration_ms, ids_touched, ids_returned, principal_id, tenant, remote_address)
      VALUES (@at, @tool, @namespace, NULL, NULL, @session_id, @args_sha256, @args_bytes, @status,
       @error_code, @duration_ms, @ids_touched, @ids_returned, @principal_id, @tenant, @remote_address)`);
    this.rewrite = db.prepare(`UPDATE audit_log SET namespace = @namespace, status = @status, error_code = @error_code,
       duration_ms = @duration_ms, ids_touched = @ids_touched, ids_returned = @ids_returned WHERE seq = @seq`);
    this.syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.syncFull = db.prepare('PRAGMA synchronous = FULL');
    this.insertSession = db.prepare(`INSERT OR IGNORE INTO audit_sessions (session_id, first_seen_at, client_name, client_version)
      VALUES (?, ?, ?, ?)`);
    // The row's own client fields (rows from before migration 0014), else its session's.
    this.since = db.prepare(`SELECT a.at, a.tool, a.namespace,
        COALESCE(a.client_name, s.client_name) AS client_name, COALESCE(a.client_version, s.client_version) AS client_version,
        a.session_id, a.args_sha256, a.args_bytes, a.status, a.error_code, a.duration_ms, a.ids_touched, a.ids_returned,
        a.principal_id, a.tenant, a.remote_address
      FROM audit_log a LEFT JOIN audit_sessions s ON s.session_id = a.session_id
      WHERE a.at >= ? ORDER BY a.seq`);
    this.appendTx = db.transaction((row: AuditRow) => {
      const newSession = this.storeSession(row);
      return { seq: Number(this.insert.run(this.values(row)).lastInsertRowid), newSession };
    });
  }

  /**
   * Append a row; returns its sequence number. Throws when it cannot be
   * stored (the database is full). `reserve`: whether the row may use the
   * size limit's reserve (rows of refused requests may not: a client could
   * fill it with them and so refuse everyone's calls).
   */
  append(row: AuditRow, durable: boolean, reserve = true): number {
    const { seq, newSession } = this.write(durable, () => this.appendTx(row), reserve);
    // Only once committed: a row refused for want of space takes its session's facts with it.
    if (newSession !== null) {
      if (this.knownSessions.size >= MAX_KNOWN_SESSIONS) this.knownSessions.clear();
      this.knownSessions.add(newSession);
    }
    return seq;
  }

  /** Rewrite the outcome of a row appended before its call ran (a write's). */
  complete(seq: number, row: AuditRow, durable: boolean): void {
    this.write(durable, () => this.rewrite.run({ ...this.values(row), seq }));
  }

  private write<T>(durable: boolean, run: () => T, reserve = true): T {
    const guarded = (): T => (this.quota && reserve ? this.quota.withReserve(run) : run());
    const now = Date.now();
    if (durable || now - this.syncedAt >= LAZY_SYNC_MS) {
      const result = guarded();
      this.syncedAt = now;
      return result;
    }
    this.syncNormal.run();
    try {
      return guarded();
    } finally {
      this.syncFull.run();
    }
  }

  private values(row: AuditRow) {
    return {
      principal_id: null,
      tenant: null,
      remote_address: null,
      ...row,
      ids_touched: JSON.stringify(row.ids_touched),
      ids_returned: JSON.stringify(row.ids_returned),
    };
  }

  /** Store a session's client facts with the first of its rows this connection writes; returns the session id then. */
  private storeSession(row: AuditRow): string | null {
    const session = row.session_id;
    if (session === null || this.knownSessions.has(session) || (row.client_name === null && row.client_version === null)) return null;
    this.insertSession.run(session, row.at, row.client_name, row.client_version);
    return session;
  }

  /** A page of rows, newest first (see MemoryStore.readAudit). */
  read(query: AuditQuery): NumberedAuditRow[] {
    const params: unknown[] = [];
    const where = auditWhere(query, (value) => (params.push(value), '?'), (column, needle) => `instr(${column}, ${needle}) > 0`);
    const rows = this.db
      .prepare(`SELECT a.seq, a.at, a.tool, a.namespace,
          COALESCE(a.client_name, s.client_name) AS client_name, COALESCE(a.client_version, s.client_version) AS client_version,
          a.session_id, a.args_sha256, a.args_bytes, a.status, a.error_code, a.duration_ms, a.ids_touched, a.ids_returned,
          a.principal_id, a.tenant, a.remote_address
        FROM audit_log a LEFT JOIN audit_sessions s ON s.session_id = a.session_id
        ${where} ORDER BY a.seq DESC LIMIT ${auditLimit(query)}`)
      .all(...params) as Array<StoredAuditRow & { seq: number }>;
    return rows.map((row) => ({ ...row, ids_touched: parseJson<string[]>(row.ids_touched, []), ids_returned: parseJson<string[]>(row.ids_returned, []) }));
  }

  /** Rows in order, streamed so an export never holds the whole trail in memory. */
  *export(since = ''): Iterable<AuditRow> {
    for (const row of this.since.iterate(since) as Iterable<StoredAuditRow>) {
      yield {
        ...row,
        ids_touched: parseJson<string[]>(row.ids_touched, []),
        ids_returned: parseJson<string[]>(row.ids_returned, []),
      };
    }
  }
}
