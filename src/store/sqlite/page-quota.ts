import type { Database, Statement } from 'better-sqlite3';

/** The share of a size limit kept for the audit trail when none is configured: 5 %, at least 256 KiB, at most half. */
export function defaultAuditReserve(maxBytes: number): number {
  return Math.min(Math.floor(maxBytes / 2), Math.max(256 * 1024, Math.floor(maxBytes * 0.05)));
}

/**
 * A size limit on the database file (`--max-database-bytes`), enforced by
 * SQLite's max_page_count: past it, a write fails with SQLITE_FULL and
 * nothing is half-written. Records stop short of the limit by a reserve that
 * only the audit trail may use, so that calls which store nothing (searches,
 * reads) can still be recorded, and so answered, when the records have
 * filled their share. Once the reserve is full too, calls are refused: none
 * is answered without its audit row.
 */
export class PageQuota {
  /** The two limits as prepared statements: an audit row sets both, and compiling them each time cost more than the row. */
  private readonly dataLimit: Statement;
  private readonly fullLimit: Statement;

  private constructor(
    db: Database,
    maxBytes: number,
    reserveBytes: number,
  ) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const allPages = Math.max(1, Math.floor(maxBytes / pageSize));
    const dataPages = Math.max(1, Math.floor((maxBytes - Math.min(reserveBytes, maxBytes)) / pageSize));
    this.fullLimit = db.prepare(`PRAGMA max_page_count = ${allPages}`);
    this.dataLimit = db.prepare(`PRAGMA max_page_count = ${dataPages}`);
    this.dataLimit.get();
  }

  /** Apply a limit to this connection, or none. */
  static apply(db: Database, maxBytes: number | undefined, reserveBytes: number | undefined): PageQuota | null {
    if (maxBytes === undefined) return null;
    return new PageQuota(db, maxBytes, reserveBytes ?? defaultAuditReserve(maxBytes));
  }

  /** Run `write` allowed to use the reserve (the audit trail's rows). */
  withReserve<T>(write: () => T): T {
    this.fullLimit.get();
    try {
      return write();
    } finally {
      // SQLite keeps the limit at the file's size if that is larger: records then cannot grow it further.
      this.dataLimit.get();
    }
  }
}
