import type { Migration } from './migration.js';

/**
 * `search_docs.flagged` (1): the injection detector flagged the record's text
 * (a step: its goal's), so its trust is low and `min_trust` leaves it out in
 * SQL, like any filter column. Set from the verdicts already stored.
 */
export const migration0018: Migration = {
  version: 18,
  name: 'flagged docs',
  up(db) {
    db.exec(`
      ALTER TABLE search_docs ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
      UPDATE search_docs SET flagged = 1
        WHERE type = 'memory' AND entity_id IN (SELECT id FROM memories WHERE injection IS NOT NULL AND injection <> '[]');
      UPDATE search_docs SET flagged = 1
        WHERE type IN ('goal', 'step') AND goal_id IN (SELECT id FROM goals WHERE injection IS NOT NULL AND injection <> '[]');
    `);
  },
};
