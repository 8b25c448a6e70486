import type { Migration } from './migration.js';

/**
 * Leases let several server processes share one data directory: only the
 * holder of a lease writes the vector snapshot or re-embeds, and a lease
 * expires, so a killed holder cannot keep it. Idempotency keys make a retried
 * write tool call store its records once.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'reliability',
  up(db) {
    db.exec(`
      CREATE TABLE leases (
        name       TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE idempotency_keys (
        key         TEXT PRIMARY KEY,
        tool        TEXT NOT NULL,
        args_sha256 TEXT NOT NULL,
        result      TEXT,
        created_at  TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};
