import type { Migration } from './migration.js';

/**
 * Newest first across every namespace. A search with an empty query and
 * `namespace: "*"` lists the newest records; the time indexes of migration 1
 * lead with the namespace, so that listing sorted every doc (about 90 ms at
 * 100,000 records, growing with the store). These walk the newest entries.
 */
export const migration0012: Migration = {
  version: 12,
  name: 'time indexes across namespaces',
  up(db) {
    db.exec(`
      CREATE INDEX search_docs_time ON search_docs (occurred_at);
      CREATE INDEX search_docs_created ON search_docs (created_at);
    `);
  },
};
