import type { Migration } from './migration.js';

/**
 * Vectors live in SQLite with their record, so the vector index can always be
 * rebuilt from this file alone. Every change the index must follow (a vector
 * set, a record removed or hidden) gets a monotonic sequence number in
 * `index_changes`; an index snapshot records the last one it contains, and a
 * restart replays only what came after.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'vectors',
  up(db) {
    db.exec(`
      CREATE TABLE embedding_models (
        model_key   TEXT PRIMARY KEY,
        model_id    TEXT NOT NULL,
        dimension   INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        first_used  TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE doc_vectors (
        doc_id    INTEGER PRIMARY KEY REFERENCES search_docs (doc_id) ON DELETE CASCADE,
        model_key TEXT NOT NULL,
        vector    BLOB NOT NULL
      );
      CREATE INDEX doc_vectors_model ON doc_vectors (model_key);

      CREATE TABLE index_changes (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id INTEGER NOT NULL,
        op     TEXT NOT NULL CHECK (op IN ('upsert', 'delete'))
      );

      CREATE TABLE vector_snapshots (
        model_key  TEXT PRIMARY KEY,
        file       TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        count      INTEGER NOT NULL,
        dimension  INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        sha256     TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};
