import type { PgMigration } from './schema-versions.js';

/** Version 1: the tables, mirroring SQLite's (see schema-versions.ts). */
export const PG_INITIAL_SCHEMA: PgMigration = {
  version: 1,
  name: 'core',
  sql: `
    CREATE TABLE search_docs (
      doc_id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      type            TEXT COLLATE "C" NOT NULL CHECK (type IN ('memory', 'goal', 'step')),
      entity_id       TEXT COLLATE "C" NOT NULL UNIQUE,
      namespace       TEXT COLLATE "C" NOT NULL,
      layer           TEXT COLLATE "C" CHECK (layer IN ('semantic', 'episodic', 'procedural')),
      kind            TEXT COLLATE "C" NOT NULL,
      goal_id         TEXT COLLATE "C",
      occurred_at     TEXT COLLATE "C" NOT NULL,
      created_at      TEXT COLLATE "C" NOT NULL,
      hidden          BOOLEAN NOT NULL DEFAULT FALSE,
      thread_id       TEXT COLLATE "C",
      thread_position DOUBLE PRECISION,
      tokens          INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX search_docs_ns_visible ON search_docs (namespace, hidden);
    CREATE INDEX search_docs_ns_time ON search_docs (namespace, occurred_at);
    CREATE INDEX search_docs_ns_created ON search_docs (namespace, created_at);
    CREATE INDEX search_docs_time ON search_docs (occurred_at);
    CREATE INDEX search_docs_created ON search_docs (created_at);
    CREATE INDEX search_docs_goal ON search_docs (goal_id) WHERE goal_id IS NOT NULL;
    CREATE INDEX search_docs_thread ON search_docs (namespace, thread_id, thread_position) WHERE thread_id IS NOT NULL;

    CREATE TABLE doc_tags (
      tag    TEXT COLLATE "C" NOT NULL,
      doc_id BIGINT NOT NULL REFERENCES search_docs (doc_id) ON DELETE CASCADE,
      PRIMARY KEY (tag, doc_id)
    );
    CREATE INDEX doc_tags_doc ON doc_tags (doc_id);

    -- The keyword index: which docs hold each term, how often; a doc's length is search_docs.tokens.
    CREATE TABLE doc_terms (
      term   TEXT COLLATE "C" NOT NULL,
      doc_id BIGINT NOT NULL REFERENCES search_docs (doc_id) ON DELETE CASCADE,
      tf     INTEGER NOT NULL,
      PRIMARY KEY (term, doc_id)
    );
    CREATE INDEX doc_terms_doc ON doc_terms (doc_id);

    -- Thread windows (a visible thread memory with its visible neighbours) and their terms.
    CREATE TABLE thread_windows (
      doc_id     BIGINT PRIMARY KEY REFERENCES search_docs (doc_id) ON DELETE CASCADE,
      before_doc BIGINT,
      after_doc  BIGINT,
      tokens     INTEGER NOT NULL
    );
    CREATE TABLE window_terms (
      term   TEXT COLLATE "C" NOT NULL,
      doc_id BIGINT NOT NULL REFERENCES thread_windows (doc_id) ON DELETE CASCADE,
      tf     INTEGER NOT NULL,
      PRIMARY KEY (term, doc_id)
    );
    CREATE INDEX window_terms_doc ON window_terms (doc_id);

    -- Rows and tokens of each keyword index, for BM25's IDF and mean length, summed over a few slots (doc-index.ts).
    CREATE TABLE fts_totals (
      name   TEXT COLLATE "C" NOT NULL CHECK (name IN ('docs', 'windows')),
      slot   INTEGER NOT NULL,
      rows   BIGINT NOT NULL,
      tokens BIGINT NOT NULL,
      PRIMARY KEY (name, slot)
    );

    CREATE TABLE memories (
      id              TEXT COLLATE "C" PRIMARY KEY,
      doc_id          BIGINT NOT NULL UNIQUE REFERENCES search_docs (doc_id),
      namespace       TEXT COLLATE "C" NOT NULL,
      layer           TEXT COLLATE "C" NOT NULL CHECK (layer IN ('semantic', 'episodic', 'procedural')),
      kind            TEXT COLLATE "C" NOT NULL,
      content         TEXT COLLATE "C" NOT NULL,
      tags            TEXT COLLATE "C" NOT NULL,
      metadata        TEXT COLLATE "C" NOT NULL,
      importance      DOUBLE PRECISION NOT NULL,
      source          TEXT COLLATE "C",
      goal_id         TEXT COLLATE "C",
      occurred_at     TEXT COLLATE "C" NOT NULL,
      created_at      TEXT COLLATE "C" NOT NULL,
      updated_at      TEXT COLLATE "C" NOT NULL,
      supersedes      TEXT COLLATE "C",
      superseded_by   TEXT COLLATE "C",
      thread_id       TEXT COLLATE "C",
      thread_position DOUBLE PRECISION
    );
    CREATE INDEX memories_ns_layer_kind ON memories (namespace, layer, kind);
    CREATE INDEX memories_goal ON memories (goal_id) WHERE goal_id IS NOT NULL;

    CREATE TABLE goals (
      id               TEXT COLLATE "C" PRIMARY KEY,
      doc_id           BIGINT NOT NULL UNIQUE REFERENCES search_docs (doc_id),
      namespace        TEXT COLLATE "C" NOT NULL,
      title            TEXT COLLATE "C" NOT NULL,
      description      TEXT COLLATE "C",
      success_criteria TEXT COLLATE "C" NOT NULL,
      priority         TEXT COLLATE "C" NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
      status           TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'achieved', 'failed', 'abandoned')),
      tags             TEXT COLLATE "C" NOT NULL,
      metadata         TEXT COLLATE "C" NOT NULL,
      parent_goal_id   TEXT COLLATE "C" REFERENCES goals (id),
      plan_version     INTEGER NOT NULL DEFAULT 0,
      source           TEXT COLLATE "C",
      created_at       TEXT COLLATE "C" NOT NULL,
      updated_at       TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX goals_ns_status ON goals (namespace, status, updated_at);

    CREATE TABLE plan_revisions (
      goal_id    TEXT COLLATE "C" NOT NULL REFERENCES goals (id),
      version    INTEGER NOT NULL,
      reason     TEXT COLLATE "C",
      created_at TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (goal_id, version)
    );

    CREATE TABLE plan_steps (
      id           TEXT COLLATE "C" PRIMARY KEY,
      doc_id       BIGINT NOT NULL UNIQUE REFERENCES search_docs (doc_id),
      goal_id      TEXT COLLATE "C" NOT NULL REFERENCES goals (id),
      plan_version INTEGER NOT NULL,
      position     INTEGER NOT NULL,
      title        TEXT COLLATE "C" NOT NULL,
      detail       TEXT COLLATE "C",
      status       TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'in_progress', 'done', 'failed', 'skipped')),
      result_note  TEXT COLLATE "C",
      updated_at   TEXT COLLATE "C" NOT NULL,
      UNIQUE (goal_id, plan_version, position)
    );

    CREATE TABLE outcomes (
      id                TEXT COLLATE "C" PRIMARY KEY,
      goal_id           TEXT COLLATE "C" NOT NULL REFERENCES goals (id),
      step_id           TEXT COLLATE "C" REFERENCES plan_steps (id),
      result            TEXT COLLATE "C" NOT NULL CHECK (result IN ('success', 'failure', 'partial')),
      summary           TEXT COLLATE "C" NOT NULL,
      lessons           TEXT COLLATE "C" NOT NULL,
      metrics           TEXT COLLATE "C" NOT NULL,
      summary_memory_id TEXT COLLATE "C" NOT NULL,
      lesson_memory_ids TEXT COLLATE "C" NOT NULL,
      created_at        TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX outcomes_goal ON outcomes (goal_id, created_at);

    CREATE TABLE speaker_names (
      seq  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name TEXT COLLATE "C" NOT NULL UNIQUE
    );

    CREATE TABLE audit_log (
      seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at             TEXT COLLATE "C" NOT NULL,
      tool           TEXT COLLATE "C" NOT NULL,
      namespace      TEXT COLLATE "C",
      client_name    TEXT COLLATE "C",
      client_version TEXT COLLATE "C",
      session_id     TEXT COLLATE "C",
      args_sha256    TEXT COLLATE "C" NOT NULL,
      args_bytes     INTEGER NOT NULL,
      status         TEXT COLLATE "C" NOT NULL CHECK (status IN ('ok', 'invalid', 'error')),
      error_code     TEXT COLLATE "C",
      duration_ms    DOUBLE PRECISION NOT NULL,
      ids_touched    TEXT COLLATE "C" NOT NULL,
      ids_returned   TEXT COLLATE "C" NOT NULL,
      principal_id   TEXT COLLATE "C",
      tenant         TEXT COLLATE "C",
      remote_address TEXT COLLATE "C"
    );
    CREATE INDEX audit_log_at ON audit_log (at);

    CREATE TABLE audit_sessions (
      session_id     TEXT COLLATE "C" PRIMARY KEY,
      first_seen_at  TEXT COLLATE "C" NOT NULL,
      client_name    TEXT COLLATE "C",
      client_version TEXT COLLATE "C"
    );

    CREATE TABLE idempotency_keys (
      key         TEXT COLLATE "C" PRIMARY KEY,
      tool        TEXT COLLATE "C" NOT NULL,
      args_sha256 TEXT COLLATE "C" NOT NULL,
      result      TEXT COLLATE "C",
      created_at  TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE leases (
      name       TEXT COLLATE "C" PRIMARY KEY,
      holder     TEXT COLLATE "C" NOT NULL,
      expires_at BIGINT NOT NULL
    );

    CREATE TABLE embedding_models (
      model_key   TEXT COLLATE "C" PRIMARY KEY,
      model_id    TEXT COLLATE "C" NOT NULL,
      dimension   INTEGER NOT NULL,
      fingerprint TEXT COLLATE "C" NOT NULL,
      first_used  TEXT COLLATE "C" NOT NULL
    );

    -- A record's vector: in the pgvector column \`embedding\` where the database has pgvector
    -- (added by ensureVectorColumn), else (and for a model's empty vector) as raw float32 bytes.
    CREATE TABLE doc_vectors (
      doc_id    BIGINT PRIMARY KEY REFERENCES search_docs (doc_id) ON DELETE CASCADE,
      model_key TEXT COLLATE "C" NOT NULL,
      vector    BYTEA
    );
    CREATE INDEX doc_vectors_model ON doc_vectors (model_key);
  `,
};
