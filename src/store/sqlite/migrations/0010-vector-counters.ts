import type { Migration } from './migration.js';

/**
 * Counters for embedding progress (records, and vectors per model), kept by
 * triggers like those of migration 0008. Counting them took 30–80 ms at a
 * million records on the serving thread, for every memory_stats call and for
 * every poll of a client waiting for indexing to finish.
 */
export const migration0010: Migration = {
  version: 10,
  name: 'vector counters',
  up(db) {
    db.exec(`
      INSERT INTO row_counts (name, n) SELECT 'search_docs', COUNT(*) FROM search_docs;
      CREATE TRIGGER search_docs_count AFTER INSERT ON search_docs BEGIN
        UPDATE row_counts SET n = n + 1 WHERE name = 'search_docs';
      END;
      CREATE TRIGGER search_docs_uncount AFTER DELETE ON search_docs BEGIN
        UPDATE row_counts SET n = n - 1 WHERE name = 'search_docs';
      END;

      CREATE TABLE vector_counts (model_key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO vector_counts (model_key, n) SELECT model_key, COUNT(*) FROM doc_vectors GROUP BY model_key;
      CREATE TRIGGER doc_vectors_count AFTER INSERT ON doc_vectors BEGIN
        INSERT INTO vector_counts (model_key, n) VALUES (NEW.model_key, 1)
          ON CONFLICT (model_key) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER doc_vectors_uncount AFTER DELETE ON doc_vectors BEGIN
        UPDATE vector_counts SET n = n - 1 WHERE model_key = OLD.model_key;
      END;
      CREATE TRIGGER doc_vectors_recount AFTER UPDATE OF model_key ON doc_vectors WHEN OLD.model_key != NEW.model_key BEGIN
        UPDATE vector_counts SET n = n - 1 WHERE model_key = OLD.model_key;
        INSERT INTO vector_counts (model_key, n) VALUES (NEW.model_key, 1)
          ON CONFLICT (model_key) DO UPDATE SET n = n + 1;
      END;
    `);
  },
};
