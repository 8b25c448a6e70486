import type { Migration } from './migration.js';

/**
 * The audit trail: one row per tool invocation. It holds hashes and sizes of the
 * arguments and the ids touched or returned, never the memory text itself.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'audit',
  up(db) {
    db.exec(`
      CREATE TABLE audit_log (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        at             TEXT NOT NULL,
        tool           TEXT NOT NULL,
        namespace      TEXT,
        client_name    TEXT,
        client_version TEXT,
        session_id     TEXT,
        args_sha256    TEXT NOT NULL,
        args_bytes     INTEGER NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('ok', 'invalid', 'error')),
        error_code     TEXT,
        duration_ms    REAL NOT NULL,
        ids_touched    TEXT NOT NULL,
        ids_returned   TEXT NOT NULL
      );
      CREATE INDEX audit_log_at ON audit_log (at);
    `);
  },
};
