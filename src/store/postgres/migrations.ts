import { createHash } from 'node:crypto';
import type pg from 'pg';
import { MemoryError } from '../../domain/errors.js';
import { quoteIdent } from './pool.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The PostgreSQL schema of one tenant, in order; never destructive. The
 * tables mirror the SQLite ones (same names and columns, times as ISO text,
 * JSON as text so records come back byte for byte as stored), except the
 * full-text index: FTS5's is replaced by term postings (doc_terms,
 * window_terms) and lengths, counted by FTS5's own tokenizer
 * (fts-tokenizer.ts), from which keyword search computes FTS5's BM25.
 * Text compares byte by byte (COLLATE "C"), as in SQLite: ids and ISO
 * times sort the same on both, whatever the database's locale.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
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
  },
  {
    version: 2,
    name: 'postings carry their length',
    sql: `
      -- Each posting carries its doc's length (search_docs.tokens, which changes only when a reindex
      -- rewrites the doc's postings too), and the primary key's index holds tf and length: BM25 over
      -- every namespace scores a term's postings from that index alone, and reads search_docs only for
      -- the best of them (search-reads.ts).
      -- Written afresh rather than updated in place (which would leave every row twice), with the
      -- keys and the reference made after the copy: minutes at millions of postings, so no timeout.
      SET LOCAL statement_timeout = 0;
      CREATE TABLE doc_terms_next (
        term   TEXT COLLATE "C" NOT NULL,
        doc_id BIGINT NOT NULL,
        tf     INTEGER NOT NULL,
        tokens INTEGER NOT NULL
      );
      INSERT INTO doc_terms_next (term, doc_id, tf, tokens)
        SELECT p.term, p.doc_id, p.tf, d.tokens FROM doc_terms p JOIN search_docs d ON d.doc_id = p.doc_id;
      DROP TABLE doc_terms;
      ALTER TABLE doc_terms_next RENAME TO doc_terms;
      ALTER TABLE doc_terms ADD CONSTRAINT doc_terms_pkey PRIMARY KEY (term, doc_id) INCLUDE (tf, tokens),
        ADD CONSTRAINT doc_terms_doc_id_fkey FOREIGN KEY (doc_id) REFERENCES search_docs (doc_id) ON DELETE CASCADE;
      CREATE INDEX doc_terms_doc ON doc_terms (doc_id);
    `,
  },
  {
    version: 3,
    name: 'provenance',
    sql: `
      -- Where each record's text came from, its URL or tool name, and the principal that wrote it; set once,
      -- never changed; NULL in rows stored before ("not recorded"). search_docs.origin copies the record's
      -- (a step's: its goal's) for search's filter. Adding nullable columns rewrites no row.
      ALTER TABLE memories ADD COLUMN IF NOT EXISTS origin TEXT COLLATE "C", ADD COLUMN IF NOT EXISTS origin_ref TEXT, ADD COLUMN IF NOT EXISTS written_by TEXT COLLATE "C";
      ALTER TABLE goals ADD COLUMN IF NOT EXISTS origin TEXT COLLATE "C", ADD COLUMN IF NOT EXISTS origin_ref TEXT, ADD COLUMN IF NOT EXISTS written_by TEXT COLLATE "C";
      ALTER TABLE outcomes ADD COLUMN IF NOT EXISTS origin TEXT COLLATE "C", ADD COLUMN IF NOT EXISTS origin_ref TEXT, ADD COLUMN IF NOT EXISTS written_by TEXT COLLATE "C";
      ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS origin TEXT COLLATE "C";
    `,
  },
  {
    version: 4,
    name: 'lesson evidence',
    sql: `
      -- Each procedural memory's evidence, one row per (memory, outcome): the outcomes it came from and
      -- the deciding outcomes of goals it was recalled for (memory/recall.ts); the stored outcomes give the first kind.
      CREATE TABLE lesson_evidence (
        memory_id  TEXT COLLATE "C" NOT NULL,
        outcome_id TEXT COLLATE "C" NOT NULL,
        goal_id    TEXT COLLATE "C" NOT NULL,
        result     TEXT COLLATE "C" NOT NULL CHECK (result IN ('success', 'failure', 'partial')),
        how        TEXT COLLATE "C" NOT NULL CHECK (how IN ('from', 'recalled')),
        at         TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (memory_id, outcome_id)
      );
      INSERT INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at)
        SELECT j.id, o.id, o.goal_id, o.result, 'from', o.created_at
        FROM outcomes o CROSS JOIN LATERAL jsonb_array_elements_text(o.lesson_memory_ids::jsonb) AS j(id)
        ON CONFLICT DO NOTHING;
    `,
  },
  {
    version: 5,
    name: 'injection review',
    sql: `
      -- The injection detector's signals when a record was written (a JSON array; [] nothing found; NULL not
      -- scanned, as every row stored before), never changed; a memory held for review (held) has a hidden doc,
      -- marked held so include_superseded cannot show it, with no terms and no vector until approved.
      ALTER TABLE memories ADD COLUMN IF NOT EXISTS injection TEXT, ADD COLUMN IF NOT EXISTS held BOOLEAN NOT NULL DEFAULT FALSE;
      ALTER TABLE goals ADD COLUMN IF NOT EXISTS injection TEXT;
      ALTER TABLE outcomes ADD COLUMN IF NOT EXISTS injection TEXT;
      ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS held BOOLEAN NOT NULL DEFAULT FALSE;
      CREATE INDEX IF NOT EXISTS memories_held ON memories (id) WHERE held;
    `,
  },
  {
    version: 6,
    name: 'flagged docs',
    sql: `
      -- A doc whose record's text the injection detector flagged (a step: its goal's): low trust, left out by
      -- min_trust. Set from the verdicts already stored.
      ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS flagged BOOLEAN NOT NULL DEFAULT FALSE;
      UPDATE search_docs d SET flagged = TRUE FROM memories m
        WHERE d.type = 'memory' AND d.entity_id = m.id AND m.injection IS NOT NULL AND m.injection <> '[]';
      UPDATE search_docs d SET flagged = TRUE FROM goals g
        WHERE d.type IN ('goal', 'step') AND d.goal_id = g.id AND g.injection IS NOT NULL AND g.injection <> '[]';
    `,
  },
];

/** Serialises migrations of one schema across every process starting at once (any 64-bit key of our own). */
const lockKey = (schema: string): string => `pinak-migrate:${schema}`;

/**
 * Create the schema if needed and bring it to the newest version, under an
 * advisory lock so N servers starting together migrate once. Each migration
 * commits with its bookkeeping row. A schema written by a newer release is
 * refused rather than guessed at. Returns the version reached.
 */
export async function migratePostgres(client: pg.PoolClient, schema: string, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number> {
  const s = quoteIdent(schema);
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey(schema)]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const current = await schemaVersionOf(client, schema);
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new MemoryError('conflict', `the database schema ${schema} is version ${current}, newer than this release supports (${newest}); upgrade pinak-memory`);
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path TO ${s}`);
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [migration.version, migration.name, new Date().toISOString()]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }
    return Math.max(current, newest);
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(schema)]).catch(() => {});
  }
}

/** What the database offers for vectors: pgvector's column, and its iterative index scans for filtered queries (0.8 and later). */
export interface VectorSupport {
  readonly column: boolean;
  readonly iterativeScans: boolean;
}

/**
 * Where the database has pgvector (CREATE EXTENSION, in the public schema
 * every tenant's search path includes), give doc_vectors its \`embedding\`
 * column. Idempotent and under the schema's migration lock; outside the
 * numbered migrations because a database without pgvector must still start
 * (keyword search only) and must not be held at an older version for it.
 */
export async function ensureVectorColumn(client: pg.PoolClient, schema: string): Promise<VectorSupport> {
  const { rows } = await client.query<{ available: boolean }>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available");
  if (!rows[0]?.available) return { column: false, iterativeScans: false };
  const s = quoteIdent(schema);
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey(schema)]);
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector SCHEMA public');
    await client.query(`ALTER TABLE ${s}.doc_vectors ADD COLUMN IF NOT EXISTS embedding public.vector`);
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(schema)]).catch(() => {});
  }
  const version = await client.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'");
  const [major = 0, minor = 0] = (version.rows[0]?.v ?? '0.0').split('.').map(Number);
  return { column: true, iterativeScans: major > 0 || minor >= 8 };
}

/**
 * The HNSW index of one model's vectors (cosine), a partial index over the
 * rows of that model with their dimension fixed, as pgvector needs; created
 * once, when the model is first registered. Returns its name.
 */
export async function ensureModelIndex(client: pg.PoolClient, schema: string, modelKey: string, dimension: number, settings: { m: number; efConstruction: number }): Promise<string> {
  const name = modelIndexName(modelKey);
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey(schema)]);
  try {
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteIdent(schema)}.doc_vectors
       USING hnsw ((embedding::public.vector(${dimension})) public.vector_cosine_ops) WITH (m = ${settings.m}, ef_construction = ${settings.efConstruction})
       WHERE model_key = ${quoteLiteral(modelKey)} AND embedding IS NOT NULL`,
    );
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(schema)]).catch(() => {});
  }
  return name;
}

/** A model's index name: stable, short, and safe whatever the key holds. */
export const modelIndexName = (modelKey: string): string => `doc_vectors_hnsw_${createHash('sha256').update(modelKey).digest('hex').slice(0, 16)}`;

/** A string as an SQL literal (for the partial index's predicate, which the planner matches literally). */
export const quoteLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`;

export async function schemaVersionOf(client: pg.PoolClient | pg.Pool, schema: string): Promise<number> {
  const { rows } = await client.query<{ v: number | null }>(`SELECT MAX(version)::int AS v FROM ${quoteIdent(schema)}.schema_migrations`);
  return rows[0]?.v ?? 0;
}
