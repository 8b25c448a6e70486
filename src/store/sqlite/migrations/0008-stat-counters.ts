import type { Migration } from './migration.js';

/**
 * Counters behind memory_stats, kept by triggers in the writing transaction.
 * Counting by GROUP BY over every memory took 1.5 s at a million memories,
 * on the thread that also serves searches; these tables make it a read of a
 * few rows. A counter row may fall to zero and stay (stats skip those).
 */
export const migration0008: Migration = {
  version: 8,
  name: 'stat counters',
  up(db) {
    db.exec(`
      CREATE TABLE memory_counts (
        namespace  TEXT NOT NULL,
        layer      TEXT NOT NULL,
        kind       TEXT NOT NULL,
        superseded INTEGER NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (namespace, layer, kind, superseded)
      ) WITHOUT ROWID;
      INSERT INTO memory_counts (namespace, layer, kind, superseded, n)
        SELECT namespace, layer, kind, superseded_by IS NOT NULL, COUNT(*) FROM memories GROUP BY 1, 2, 3, 4;

      CREATE TRIGGER memory_counts_insert AFTER INSERT ON memories BEGIN
        INSERT INTO memory_counts (namespace, layer, kind, superseded, n)
          VALUES (NEW.namespace, NEW.layer, NEW.kind, NEW.superseded_by IS NOT NULL, 1)
          ON CONFLICT (namespace, layer, kind, superseded) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER memory_counts_delete AFTER DELETE ON memories BEGIN
        UPDATE memory_counts SET n = n - 1
          WHERE namespace = OLD.namespace AND layer = OLD.layer AND kind = OLD.kind AND superseded = (OLD.superseded_by IS NOT NULL);
      END;
      CREATE TRIGGER memory_counts_update AFTER UPDATE OF namespace, layer, kind, superseded_by ON memories BEGIN
        UPDATE memory_counts SET n = n - 1
          WHERE namespace = OLD.namespace AND layer = OLD.layer AND kind = OLD.kind AND superseded = (OLD.superseded_by IS NOT NULL);
        INSERT INTO memory_counts (namespace, layer, kind, superseded, n)
          VALUES (NEW.namespace, NEW.layer, NEW.kind, NEW.superseded_by IS NOT NULL, 1)
          ON CONFLICT (namespace, layer, kind, superseded) DO UPDATE SET n = n + 1;
      END;

      CREATE TABLE row_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO row_counts (name, n) SELECT 'audit_log', COUNT(*) FROM audit_log;
      CREATE TRIGGER audit_log_count AFTER INSERT ON audit_log BEGIN
        UPDATE row_counts SET n = n + 1 WHERE name = 'audit_log';
      END;
      CREATE TRIGGER audit_log_uncount AFTER DELETE ON audit_log BEGIN
        UPDATE row_counts SET n = n - 1 WHERE name = 'audit_log';
      END;
    `);
  },
};
