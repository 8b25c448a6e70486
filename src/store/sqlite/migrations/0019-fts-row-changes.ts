import type { Migration } from './migration.js';

/**
 * `fts_row_changes`: the full-text rows a write rewrote or removed, in commit
 * order (see fts-row-log.ts), so a process holding row lengths in memory can
 * follow another process's writes instead of setting the lengths aside.
 * AUTOINCREMENT: a sequence number is never given twice, even after the
 * oldest entries are trimmed.
 */
export const migration0019: Migration = {
  version: 19,
  name: 'fts row changes',
  up(db) {
    db.exec(`
      CREATE TABLE fts_row_changes (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        fts    TEXT NOT NULL,
        row_id INTEGER NOT NULL
      );
    `);
  },
};
