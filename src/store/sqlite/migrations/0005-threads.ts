import type { Migration } from './migration.js';

/**
 * Threads: a conversation, session or episode that orders its memories. The
 * position is kept on the search doc too, so search can reach a hit's
 * neighbours (the answer after a question) without touching the memory rows.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'threads',
  up(db) {
    db.exec(`
      ALTER TABLE memories ADD COLUMN thread_id TEXT;
      ALTER TABLE memories ADD COLUMN thread_position REAL;
      ALTER TABLE search_docs ADD COLUMN thread_id TEXT;
      ALTER TABLE search_docs ADD COLUMN thread_position REAL;
      CREATE INDEX search_docs_thread ON search_docs (namespace, thread_id, thread_position) WHERE thread_id IS NOT NULL;
    `);
  },
};
