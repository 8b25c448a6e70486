import type { Migration } from './migration.js';

/**
 * The evidence of each procedural memory, one row per (memory, outcome): the
 * outcomes it came from (a lesson an outcome recorded, or said again and
 * merged into it) and the deciding outcomes of goals it was recalled for
 * (see memory/recall.ts). Search reads a hit's rows by memory id to rank
 * lessons by their track record. The outcomes stored already give the
 * first kind: each lesson they name came from them.
 */
export const migration0016: Migration = {
  version: 16,
  name: 'lesson evidence',
  up(db) {
    db.exec(`
      CREATE TABLE lesson_evidence (
        memory_id  TEXT NOT NULL,
        outcome_id TEXT NOT NULL,
        goal_id    TEXT NOT NULL,
        result     TEXT NOT NULL CHECK (result IN ('success', 'failure', 'partial')),
        how        TEXT NOT NULL CHECK (how IN ('from', 'recalled')),
        at         TEXT NOT NULL,
        PRIMARY KEY (memory_id, outcome_id)
      ) WITHOUT ROWID;
      INSERT OR IGNORE INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at)
        SELECT j.value, o.id, o.goal_id, o.result, 'from', o.created_at
        FROM outcomes o, json_each(o.lesson_memory_ids) j
        WHERE json_valid(o.lesson_memory_ids) AND j.type = 'text';
    `);
  },
};
