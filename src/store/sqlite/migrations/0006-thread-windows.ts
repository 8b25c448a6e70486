import type { Migration } from './migration.js';

/**
 * Windows of three adjacent thread memories (the one before, the memory, the
 * one after), indexed in a second full-text table keyed by the middle
 * memory's doc id, and which memories each window holds. In conversations the evidence is often the turn next to
 * the words that match; a window that matches lifts all three turns.
 */
export const migration0006: Migration = {
  version: 6,
  name: 'thread windows',
  up(db) {
    db.exec(`
      CREATE VIRTUAL TABLE window_fts USING fts5 (
        body,
        content = '',
        contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      CREATE TABLE thread_windows (
        doc_id     INTEGER PRIMARY KEY REFERENCES search_docs (doc_id) ON DELETE CASCADE,
        before_doc INTEGER,
        after_doc  INTEGER
      );
      CREATE TEMP TABLE new_windows AS
        SELECT d.doc_id,
          lag(d.doc_id) OVER thread AS before_doc,
          lead(d.doc_id) OVER thread AS after_doc,
          concat_ws(char(10), lag(m.content) OVER thread, m.content, lead(m.content) OVER thread) AS body
        FROM search_docs d JOIN memories m ON m.doc_id = d.doc_id
        WHERE d.thread_id IS NOT NULL AND d.hidden = 0
        WINDOW thread AS (PARTITION BY d.namespace, d.thread_id ORDER BY d.thread_position);
      INSERT INTO window_fts (rowid, body) SELECT doc_id, body FROM new_windows;
      INSERT INTO thread_windows (doc_id, before_doc, after_doc) SELECT doc_id, before_doc, after_doc FROM new_windows;
      DROP TABLE new_windows;
    `);
  },
};
