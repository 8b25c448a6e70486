import { PG_INITIAL_SCHEMA } from './schema-v1.js';

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
  PG_INITIAL_SCHEMA,
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
  {
    version: 7,
    name: 'store settings',
    sql: `
      -- Facts about the store as a whole, by name; the first is keyword_text_version (domain/keyword-text.ts),
      -- absent in a store filled before it was kept.
      CREATE TABLE IF NOT EXISTS store_settings (
        name  TEXT COLLATE "C" PRIMARY KEY,
        value TEXT COLLATE "C" NOT NULL
      );
    `,
  },
];
