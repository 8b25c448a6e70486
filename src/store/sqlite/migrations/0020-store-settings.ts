import type { Migration } from './migration.js';

/**
 * `store_settings`: facts about the store as a whole, by name. The first is
 * `keyword_text_version` (domain/keyword-text.ts): the version that wrote
 * every record's keyword text, absent in a store filled before it was kept.
 */
export const migration0020: Migration = {
  version: 20,
  name: 'store settings',
  up(db) {
    db.exec(`
      CREATE TABLE store_settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};
