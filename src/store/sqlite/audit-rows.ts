import type { Database, Statement } from 'better-sqlite3';
import type { AuditRow } from '../store.js';
import { parseJson } from './json.js';

type StoredAuditRow = Omit<AuditRow, 'ids_touched' | 'ids_returned'> & { seq: number; ids_touched: string; ids_returned: string };

/** The append-only audit table. */
export class AuditRows {
  private readonly insert: Statement;
  private readonly since: Statement;

  constructor(db: Database) {
    this.insert = db.prepare(`INSERT INTO audit_log
      (at, tool, namespace, client_name, client_version, session_id, args_sha256, args_bytes, status, error_code,
       duration_ms, ids_touched, ids_returned, principal_id, tenant, remote_address)
      VALUES (@at, @tool, @namespace, @client_name, @client_version, @session_id, @args_sha256, @args_bytes, @status,
       @error_code, @duration_ms, @ids_touched, @ids_returned, @principal_id, @tenant, @remote_address)`);
    this.since = db.prepare('SELECT * FROM audit_log WHERE at >= ? ORDER BY seq');
  }

  append(row: AuditRow): void {
    this.insert.run({ principal_id: null, tenant: null, remote_address: null, ...row, ids_touched: JSON.stringify(row.ids_touched), ids_returned: JSON.stringify(row.ids_returned) });
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
