import { createHash } from 'node:crypto';
import type pg from 'pg';
import { MemoryError } from '../../domain/errors.js';
import { quoteIdent } from './pool.js';
import { PG_MIGRATIONS, type PgMigration } from './schema-versions.js';

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
