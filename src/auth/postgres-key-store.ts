import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isUnavailable } from '../domain/database-errors.js';
import { redactDatabaseUrl } from '../domain/database-url.js';
import { StartupError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { generateKey, hashKey, looksLikeKey } from './key-format.js';
import { checkedKey, fromKeyRow, invalidOf, type ApiKey, type KeyCheck, type KeyRow, type KeyStore, type NewKey } from './key-store.js';

/** The schema every server on a database shares for what is not a tenant's: API keys, and settings such as the audit fingerprint secret. */
export const SHARED_SCHEMA = 'pinak_auth';

/** The shared schema's tables, created once (IF NOT EXISTS, under an advisory lock: servers starting together create them once). */
const SCHEMA_SQL = `
  CREATE SCHEMA IF NOT EXISTS ${SHARED_SCHEMA};
  CREATE TABLE IF NOT EXISTS ${SHARED_SCHEMA}.api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    name         TEXT,
    tenant       TEXT COLLATE "C" NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    namespaces   TEXT,
    hash         TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at   TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C",
    last_used_at TEXT COLLATE "C"
  );
  CREATE TABLE IF NOT EXISTS ${SHARED_SCHEMA}.settings (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
  );
  -- The per-key rate limit's token buckets (auth/postgres-rate-limiter.ts): at, seconds since the epoch by the
  -- database's clock; granted, whether the last take was. Unlogged: lost in a crash, a bucket just starts full.
  CREATE UNLOGGED TABLE IF NOT EXISTS ${SHARED_SCHEMA}.rate_buckets (
    id      TEXT COLLATE "C" PRIMARY KEY,
    tokens  DOUBLE PRECISION NOT NULL,
    at      DOUBLE PRECISION NOT NULL,
    granted BOOLEAN NOT NULL
  );`;

/**
 * Create the shared schema's tables where missing (and `tables`, more of
 * them), under an advisory lock: servers starting together, and
 * `migrate-store`, create them once, the same way.
 */
export async function createSharedSchema(client: pg.ClientBase, tables = ''): Promise<void> {
  await client.query("SELECT pg_advisory_lock(hashtextextended('pinak-migrate:' || $1, 0))", [SHARED_SCHEMA]);
  try {
    await client.query(SCHEMA_SQL + tables);
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtextextended('pinak-migrate:' || $1, 0))", [SHARED_SCHEMA]).catch(() => {});
  }
}

export interface SharedDatabaseSettings {
  url: string;
  poolSize?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** Keep trying to reach the database this long (0: fail at once), as the stores do at start. */
  waitForDatabaseMs?: number | undefined;
}

/** A first connection, waited for up to the settings' time; an unreachable database is the one-line StartupError. */
async function connectOrWait(pool: pg.Pool, settings: SharedDatabaseSettings): Promise<pg.PoolClient> {
  const deadline = Date.now() + (settings.waitForDatabaseMs ?? 0);
  for (;;) {
    try {
      return await pool.connect();
    } catch (error) {
      if (!isUnavailable(error) || Date.now() >= deadline) throw new StartupError(`cannot reach PostgreSQL at ${redactDatabaseUrl(settings.url)}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
  }
}

/**
 * A small pool on the shared schema (keys are read once per request: a few
 * connections are plenty). `tables`: more of the shared schema's tables, created
 * with it; `synchronousCommit: false` for rows whose loss in a database crash
 * is harmless (commits then skip the WAL flush).
 */
export async function openSharedPool(settings: SharedDatabaseSettings, extra: { tables?: string; synchronousCommit?: false } = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: Math.min(4, settings.poolSize ?? 4),
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5000,
    application_name: 'pinak-memory',
    ...(extra.synchronousCommit === false ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('error', () => {});
  try {
    const client = await connectOrWait(pool, settings);
    try {
      await createSharedSchema(client, extra.tables);
    } finally {
      client.release();
    }
    return pool;
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
}

/** The API keys of every server on one PostgreSQL database, in the shared schema: a revocation is seen by every replica with its next request. */
export class PostgresKeyStore implements KeyStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** The shared schema's pool, which the rate limit's buckets use too (one small pool for what servers share outside tenants). */
  get sharedPool(): pg.Pool {
    return this.pool;
  }

  static async open(settings: SharedDatabaseSettings): Promise<PostgresKeyStore> {
    return new PostgresKeyStore(await openSharedPool(settings));
  }

  private async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async create(spec: NewKey, now: string): Promise<{ key: string; record: ApiKey }> {
    const key = generateKey();
    const record: ApiKey = { id: newId(), ...spec, created_at: now, revoked_at: null, last_used_at: null };
    await this.pool.query(
      `INSERT INTO ${SHARED_SCHEMA}.api_keys (id, name, tenant, role, namespaces, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [record.id, record.name, record.tenant, record.role, record.namespaces === null ? null : JSON.stringify(record.namespaces), hashKey(key), record.created_at, record.expires_at],
    );
    return { key, record };
  }

  async list(): Promise<ApiKey[]> {
    return (await this.rows<KeyRow>(`SELECT * FROM ${SHARED_SCHEMA}.api_keys ORDER BY created_at, id`)).map(fromKeyRow);
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const [row] = await this.rows<KeyRow>(`SELECT * FROM ${SHARED_SCHEMA}.api_keys WHERE id = $1`, [id]);
    return row ? fromKeyRow(row) : undefined;
  }

  async revoke(id: string, now: string): Promise<ApiKey | undefined> {
    await this.pool.query(`UPDATE ${SHARED_SCHEMA}.api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [now, id]);
    return this.get(id);
  }

  async any(): Promise<boolean> {
    return (await this.rows<{ e: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${SHARED_SCHEMA}.api_keys) AS e`))[0]!.e;
  }

  async check(presented: string, now: Date): Promise<KeyCheck> {
    if (!looksLikeKey(presented)) return { ok: false, reason: 'unknown' };
    const hash = hashKey(presented);
    const [row] = await this.rows<KeyRow>(`SELECT * FROM ${SHARED_SCHEMA}.api_keys WHERE hash = $1`, [hash]);
    return checkedKey(row, hash, now);
  }

  async invalid(ids: readonly string[], now: Date): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.rows<Pick<ApiKey, 'id' | 'revoked_at' | 'expires_at'>>(
      `SELECT id, revoked_at, expires_at FROM ${SHARED_SCHEMA}.api_keys WHERE id = ANY($1::text[])`,
      [[...ids]],
    );
    return invalidOf(ids, rows, now);
  }

  async touch(id: string, now: string): Promise<void> {
    await this.pool.query(`UPDATE ${SHARED_SCHEMA}.api_keys SET last_used_at = $1 WHERE id = $2`, [now, id]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
