import type { Migration } from './migration.js';

/**
 * Injected instructions, judged when a memory is written: `memories.injection`
 * holds the detector's signals as a JSON array (`[]`: scanned, nothing
 * found; NULL: not scanned, as every row stored before), set once and never
 * changed. `memories.held` (1) marks a memory held for review: its
 * `search_docs` row is hidden and `search_docs.held`, so no search finds it,
 * `include_superseded` included, and it has no full-text entry and no vector
 * until an admin approves it. Goals and outcomes keep their verdict too
 * (flagged only, never held).
 */
export const migration0017: Migration = {
  version: 17,
  name: 'injection review',
  up(db) {
    db.exec(`
      ALTER TABLE memories ADD COLUMN injection TEXT;
      ALTER TABLE memories ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE goals ADD COLUMN injection TEXT;
      ALTER TABLE outcomes ADD COLUMN injection TEXT;
      ALTER TABLE search_docs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX memories_held ON memories (held) WHERE held = 1;
    `);
  },
};
