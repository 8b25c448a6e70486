import type { Migration } from './migration.js';

/**
 * What a connection says about itself (its client's name and version), kept
 * once per session instead of on every audit row: a client chooses these
 * strings, and copied into each row they let one session grow the trail by
 * their size on every call. Rows written before keep their own copy; the
 * export reads a row's, else its session's.
 */
export const migration0014: Migration = {
  version: 14,
  name: 'audit sessions',
  up(db) {
    db.exec(`
      CREATE TABLE audit_sessions (
        session_id     TEXT PRIMARY KEY,
        first_seen_at  TEXT NOT NULL,
        client_name    TEXT,
        client_version TEXT
      );
    `);
  },
};
