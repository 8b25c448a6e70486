import type { Migration } from './migration.js';

/**
 * Provenance on every record: where its text came from (`origin`: user,
 * agent, tool, web, import, system), the URL or tool name it came from
 * (`origin_ref`), and the principal that wrote it (`written_by`). Set once
 * when the record is stored and never changed. Rows stored before hold NULL
 * in all three: "not recorded". `search_docs.origin` copies the record's
 * (a step's: its goal's), so search filters by it as by layer or kind.
 */
export const migration0015: Migration = {
  version: 15,
  name: 'provenance',
  up(db) {
    db.exec(`
      ALTER TABLE memories ADD COLUMN origin TEXT;
      ALTER TABLE memories ADD COLUMN origin_ref TEXT;
      ALTER TABLE memories ADD COLUMN written_by TEXT;
      ALTER TABLE goals ADD COLUMN origin TEXT;
      ALTER TABLE goals ADD COLUMN origin_ref TEXT;
      ALTER TABLE goals ADD COLUMN written_by TEXT;
      ALTER TABLE outcomes ADD COLUMN origin TEXT;
      ALTER TABLE outcomes ADD COLUMN origin_ref TEXT;
      ALTER TABLE outcomes ADD COLUMN written_by TEXT;
      ALTER TABLE search_docs ADD COLUMN origin TEXT;
    `);
  },
};
