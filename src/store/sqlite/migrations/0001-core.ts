import type { Migration } from './migration.js';

/**
 * Memories, goals, plans, steps and outcomes, and the search layer over them.
 *
 * Everything searchable (memories, goals, steps) gets one row in `search_docs`,
 * whose integer `doc_id` is also its row in the FTS5 index (and, later, its
 * label in the vector index). The FTS table is contentless: the text lives once,
 * in the entity tables, and `contentless_delete` lets us remove rows by id.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'core',
  up(db) {
    db.exec(`
      CREATE TABLE search_docs (
        doc_id      INTEGER PRIMARY KEY AUTOINCREMENT,
        type        TEXT NOT NULL CHECK (type IN ('memory', 'goal', 'step')),
        entity_id   TEXT NOT NULL UNIQUE,
        namespace   TEXT NOT NULL,
        layer       TEXT CHECK (layer IN ('semantic', 'episodic', 'procedural')),
        kind        TEXT NOT NULL,
        goal_id     TEXT,
        occurred_at TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        hidden      INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX search_docs_ns_time ON search_docs (namespace, occurred_at);
      CREATE INDEX search_docs_ns_created ON search_docs (namespace, created_at);
      CREATE INDEX search_docs_goal ON search_docs (goal_id) WHERE goal_id IS NOT NULL;

      CREATE TABLE doc_tags (
        tag    TEXT NOT NULL,
        doc_id INTEGER NOT NULL REFERENCES search_docs (doc_id) ON DELETE CASCADE,
        PRIMARY KEY (tag, doc_id)
      ) WITHOUT ROWID;
      CREATE INDEX doc_tags_doc ON doc_tags (doc_id);

      CREATE VIRTUAL TABLE search_fts USING fts5 (
        body,
        content = '',
        contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
      );

      CREATE TABLE memories (
        id            TEXT PRIMARY KEY,
        doc_id        INTEGER NOT NULL UNIQUE REFERENCES search_docs (doc_id),
        namespace     TEXT NOT NULL,
        layer         TEXT NOT NULL CHECK (layer IN ('semantic', 'episodic', 'procedural')),
        kind          TEXT NOT NULL,
        content       TEXT NOT NULL,
        tags          TEXT NOT NULL,
        metadata      TEXT NOT NULL,
        importance    REAL NOT NULL,
        source        TEXT,
        goal_id       TEXT,
        occurred_at   TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        supersedes    TEXT,
        superseded_by TEXT
      ) WITHOUT ROWID;
      CREATE INDEX memories_ns_layer_kind ON memories (namespace, layer, kind);
      CREATE INDEX memories_goal ON memories (goal_id) WHERE goal_id IS NOT NULL;

      CREATE TABLE goals (
        id               TEXT PRIMARY KEY,
        doc_id           INTEGER NOT NULL UNIQUE REFERENCES search_docs (doc_id),
        namespace        TEXT NOT NULL,
        title            TEXT NOT NULL,
        description      TEXT,
        success_criteria TEXT NOT NULL,
        priority         TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
        status           TEXT NOT NULL CHECK (status IN ('active', 'achieved', 'failed', 'abandoned')),
        tags             TEXT NOT NULL,
        metadata         TEXT NOT NULL,
        parent_goal_id   TEXT REFERENCES goals (id),
        plan_version     INTEGER NOT NULL DEFAULT 0,
        source           TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX goals_ns_status ON goals (namespace, status, updated_at);

      CREATE TABLE plan_revisions (
        goal_id    TEXT NOT NULL REFERENCES goals (id),
        version    INTEGER NOT NULL,
        reason     TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (goal_id, version)
      ) WITHOUT ROWID;

      CREATE TABLE plan_steps (
        id           TEXT PRIMARY KEY,
        doc_id       INTEGER NOT NULL UNIQUE REFERENCES search_docs (doc_id),
        goal_id      TEXT NOT NULL REFERENCES goals (id),
        plan_version INTEGER NOT NULL,
        position     INTEGER NOT NULL,
        title        TEXT NOT NULL,
        detail       TEXT,
        status       TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'done', 'failed', 'skipped')),
        result_note  TEXT,
        updated_at   TEXT NOT NULL,
        UNIQUE (goal_id, plan_version, position)
      ) WITHOUT ROWID;

      CREATE TABLE outcomes (
        id                TEXT PRIMARY KEY,
        goal_id           TEXT NOT NULL REFERENCES goals (id),
        step_id           TEXT REFERENCES plan_steps (id),
        result            TEXT NOT NULL CHECK (result IN ('success', 'failure', 'partial')),
        summary           TEXT NOT NULL,
        lessons           TEXT NOT NULL,
        metrics           TEXT NOT NULL,
        summary_memory_id TEXT NOT NULL,
        lesson_memory_ids TEXT NOT NULL,
        created_at        TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX outcomes_goal ON outcomes (goal_id, created_at);
    `);
  },
};
