import type { Database, Statement } from 'better-sqlite3';
import type { AuditRow } from '../store.js';
import { parseJson } from './json.js';

type StoredAuditRow = Omit<AuditRow, 'ids_touched' | 'ids_returned'> & { seq: number; ids_touched: string; ids_returned: string };

/** How long a row of a call that changed nothing may wait for a durable commit to carry it to disk. */
const LAZY_SYNC_MS = 1000;

/**
 * The append-only audit table. Every row is committed before the call is
 * answered, so a crash of the process loses none. Rows of calls that wrote
 * something are synced to disk like the write (synchronous=FULL). Rows of
 * calls that changed nothing (searches, reads, refusals) skip the sync: in
 * WAL mode the next synced commit makes them durable too, and one of them
 * syncs at least once a second. A search paid about 1 ms for its audit
 * row's fsync, as much as the search itself at 100,000 memories.
 */
export class AuditRows {
  private readonly insert: Statement;
  private readonly since: Statement;
  private syncedAt = 0;

  constructor(private readonly db: Database) {
    this.insert = db.prepare(`INSERT INTO audit_log
      (at, tool, namespace, client_name, client_version, session_id, args_sha256, args_bytes, status, error_code,
       duration_ms, ids_touched, ids_returned, principal_id, tenant, remote_address)
      VALUES (@at, @tool, @namespace, @client_name, @client_version, @session_id, @args_sha256, @args_bytes, @status,
       @error_code, @duration_ms, @ids_touched, @ids_returned, @principal_id, @tenant, @remote_address)`);
    this.since = db.prepare('SELECT * FROM audit_log WHERE at >= ? ORDER BY seq');
  }

  append(row: AuditRow, durable: boolean): void {
    const values = { principal_id: null, tenant: null, remote_address: null, ...row, ids_touched: JSON.stringify(row.ids_touched), ids_returned: JSON.stringify(row.ids_returned) };
    const now = Date.now();
    if (durable || now - this.syncedAt >= LAZY_SYNC_MS) {
      this.insert.run(values);
      this.syncedAt = now;
      return;
    }
    this.db.pragma('synchronous = NORMAL');
    try {
      this.insert.run(values);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** Rows in order, streamed so an export never holds the whole trail in memory. */
  *export(since = ''): Iterable<AuditRow> {
    for (const row of this.since.iterate(since) as Iterable<StoredAuditRow>) {
      const { seq: _seq, ...rest } = row;
      yield {
        ...rest,
        ids_touched: parseJson<string[]>(row.ids_touched, []),
        ids_returned: parseJson<string[]>(row.ids_returned, []),
      };
    }
  }
}
