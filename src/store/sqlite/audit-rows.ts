import type { Database, Statement, Transaction } from 'better-sqlite3';
import { auditLimit, auditWhere } from '../audit-query.js';
import type { AuditQuery, AuditRow, NumberedAuditRow } from '../store.js';
import { parseJson } from '../json.js';
import type { PageQuota } from './page-quota.js';
import type { WriteLock } from './write-lock.js';

type StoredAuditRow = Omit<AuditRow, 'ids_touched' | 'ids_returned'> & { ids_touched: string; ids_returned: string };

/** How long a row of a call that changed nothing may wait for a durable commit to carry it to disk. */
const LAZY_SYNC_MS = 1000;

/** A row to append or rewrite, waiting for the next commit. */
interface PendingWrite {
  durable: boolean;
  reserve: boolean;
  write: () => unknown;
  settle: (error: unknown, value?: unknown) => void;
}

type Outcome = { error?: unknown; value?: unknown };

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
  private readonly lock: WriteLock;
  private readonly queue: PendingWrite[] = [];
  private flushing = false;
  private syncedAt = 0;

  constructor(
    private readonly db: Database,
    lock: WriteLock,
    private readonly quota: PageQuota | null = null,
  ) {
    this.insert = db.prepare(`INSERT INTO audit_log
      (at, tool, namespace, client_name, client_version, session_id, args_sha256, args_bytes, status, error_code,
       duration_ms, ids_touched, ids_returned, principal_id, tenant, remote_address)
      VALUES (@at, @tool, @namespace, NULL, NULL, @session_id, @args_sha256, @args_bytes, @status,
       @error_code, @duration_ms, @ids_touched, @ids_returned, @principal_id, @tenant, @remote_address)`);
    this.rewrite = db.prepare(`UPDATE audit_log SET namespace = @namespace, status = @status, error_code = @error_code,
       duration_ms = @duration_ms, ids_touched = @ids_touched, ids_returned = @ids_returned WHERE seq = @seq`);
    this.lock = lock;
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
   * Append a row; resolves to its sequence number once committed. Rejects
   * when it cannot be stored (the database is full). `reserve`: whether the
   * row may use the size limit's reserve (rows of refused requests may not: a
   * client could fill it with them and so refuse everyone's calls).
   */
  append(row: AuditRow, durable: boolean, reserve = true): Promise<number> {
    return this.enqueue<number>({ durable, reserve, write: () => this.appendTx(row) });
  }

  /** Rewrite the outcome of a row appended before its call ran (a write's). */
  complete(seq: number, row: AuditRow, durable: boolean): Promise<void> {
    return this.enqueue<void>({ durable, reserve: true, write: () => void this.rewrite.run({ ...this.values(row), seq }) });
  }

  private enqueue<T>(write: Omit<PendingWrite, 'settle'>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ ...write, settle: (error, value) => (error === undefined ? resolve(value as T) : reject(error)) });
      if (!this.flushing) {
        this.flushing = true;
        // Rows of calls finishing in the same turn of the event loop share one commit.
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Commit what is queued, one transaction for all: taken when the write lock
   * is, so rows queued while another connection held it join. A row refused
   * for want of space fails alone: an append is a savepoint of its own, a
   * rewrite one statement.
   */
  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        let batch: PendingWrite[] = [];
        let outcomes: Outcome[] = [];
        let retry: PendingWrite[] = [];
        let synced = true;
        try {
          await this.lock.run(
            () => {
              batch = this.queue.splice(0);
              for (let i = 0; i < batch.length; i += 1) {
                const outcome = this.writeOne(batch[i]!);
                outcomes.push(outcome);
                if (outcome.error !== undefined && !this.db.inTransaction) {
                  // SQLite may give up the whole transaction on a full disk: what went before is undone, so the others go again.
                  retry = [...batch.slice(0, i), ...batch.slice(i + 1)];
                  batch = [batch[i]!];
                  outcomes = [outcome];
                  break;
                }
              }
            },
            { synced: () => (synced = this.queue.some((item) => item.durable) || Date.now() - this.syncedAt >= LAZY_SYNC_MS) },
          );
        } catch (error) {
          // The commit failed, or the lock stayed taken: nothing of the batch (or of the queue, if none was taken) is stored.
          for (const item of batch.length > 0 ? [...batch, ...retry] : this.queue.splice(0)) item.settle(error);
          continue;
        }
        if (synced) this.syncedAt = Date.now();
        this.queue.unshift(...retry);
        batch.forEach((item, i) => this.settle(item, outcomes[i]!));
      }
    } finally {
      this.flushing = false;
    }
  }

  private writeOne(item: PendingWrite): Outcome {
    try {
      return { value: this.quota && item.reserve ? this.quota.withReserve(item.write) : item.write() };
    } catch (error) {
      return { error };
    }
  }

  private settle(item: PendingWrite, outcome: Outcome): void {
    if (outcome.error !== undefined) return item.settle(outcome.error);
    const appended = outcome.value as { seq: number; newSession: string | null } | undefined;
    // Only once committed: a row refused for want of space takes its session's facts with it.
    if (appended?.newSession) {
      if (this.knownSessions.size >= MAX_KNOWN_SESSIONS) this.knownSessions.clear();
      this.knownSessions.add(appended.newSession);
    }
    item.settle(undefined, appended?.seq);
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
