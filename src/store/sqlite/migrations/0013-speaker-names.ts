import type { Migration } from './migration.js';

/**
 * Every speaker and author name memories have carried, once each, kept by a
 * trigger. The speaker boost looks up the speakers of a search's hits only
 * when the query names one of these: that lookup reads each hit's memory row
 * and metadata (about a tenth of a search at 100,000 memories), and most
 * queries name nobody. Names stay when their memories go: the list only
 * decides whether to look.
 */
export const migration0013: Migration = {
  version: 13,
  name: 'speaker names',
  up(db) {
    db.exec(`
      CREATE TABLE speaker_names (seq INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TRIGGER memories_speaker_names AFTER INSERT ON memories WHEN json_valid(NEW.metadata) BEGIN
        INSERT OR IGNORE INTO speaker_names (name)
          SELECT value FROM json_each(NEW.metadata) WHERE key IN ('speaker', 'author') AND type = 'text';
      END;
      INSERT OR IGNORE INTO speaker_names (name)
        SELECT j.value FROM memories m, json_each(m.metadata) j
        WHERE json_valid(m.metadata) AND j.key IN ('speaker', 'author') AND j.type = 'text';
    `);
  },
};
