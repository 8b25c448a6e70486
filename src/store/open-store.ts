import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { KEYWORD_TEXT_VERSION } from '../domain/keyword-text.js';
import { LOCAL_TENANT } from '../domain/principal.js';
import type { VectorLog } from '../domain/vector-log.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { MemoryStore, NearestVectors } from './store.js';

/** What choosing and opening a backend needs from the configuration. */
export interface StoreSettings {
  dataDir: string;
  busyTimeoutMs: number;
  maxDatabaseBytes?: number | undefined;
  auditReserveBytes?: number | undefined;
  cacheMb?: number | undefined;
  /** A PostgreSQL URL: the scale-out backend instead of the SQLite file in the data directory. */
  databaseUrl?: string | undefined;
  databasePoolSize?: number | undefined;
  databaseConnectTimeoutMs?: number | undefined;
  databaseStatementTimeoutMs?: number | undefined;
  databaseIdleInTransactionTimeoutMs?: number | undefined;
  waitForDatabaseMs?: number | undefined;
  hnswM?: number | undefined;
  hnswEfConstruction?: number | undefined;
  hnswEfSearch?: number | undefined;
  exactScanLimit?: number | undefined;
}

/** An open store, with what only some backends have. */
export interface OpenedStore {
  readonly store: MemoryStore;
  readonly backend: 'sqlite' | 'postgres';
  /** The change log a local vector index follows (SQLite); null where the database searches vectors itself. */
  readonly vectorLog: VectorLog | null;
  /** The database's own vector search (PostgreSQL with pgvector); null otherwise. */
  readonly nearest: NearestVectors | null;
}

/** The SQLite file of a data directory (a tenant's is its own directory's). */
export const sqliteFile = (dataDir: string): string => join(dataDir, 'pinak.db');

/** The schema holding the local tenant's records in PostgreSQL. */
export const LOCAL_SCHEMA = 'pinak';

/** What the schema of every tenant but the local one starts with. */
export const TENANT_SCHEMA_PREFIX = 'tenant_';

/**
 * The PostgreSQL schema of a tenant: `pinak` for the local one,
 * `tenant_<name>` for the others (a long name is cut and made unique with a
 * hash: schema names hold 63 bytes). One schema per tenant keeps tenants
 * apart by construction, as one file per tenant does in SQLite. No tenant's
 * schema can be one of the project's own (`pinak`, `pinak_auth`): those do
 * not start with the prefix.
 */
export function tenantSchema(tenant: string): string {
  if (tenant === LOCAL_TENANT) return LOCAL_SCHEMA;
  const name = `${TENANT_SCHEMA_PREFIX}${tenant}`;
  if (name.length <= 63) return name;
  return `${name.slice(0, 50)}_${createHash('sha256').update(tenant).digest('hex').slice(0, 12)}`;
}

/**
 * Open the configured backend for one tenant: its schema in PostgreSQL when
 * a database URL is set, else the SQLite file in its data directory.
 * `serving: false` for a command that only reads or copies records (export,
 * audit): no size quota, and no keyword scoring prepared in the background.
 */
export async function openStore(settings: StoreSettings, place: { tenant: string; dataDir: string }, options: { serving?: boolean } = {}): Promise<OpenedStore> {
  if (settings.databaseUrl) {
    const store = await PostgresStore.open({
      url: settings.databaseUrl,
      schema: tenantSchema(place.tenant),
      size: settings.databasePoolSize ?? 10,
      connectTimeoutMs: settings.databaseConnectTimeoutMs ?? 5000,
      statementTimeoutMs: settings.databaseStatementTimeoutMs ?? 30_000,
      idleInTransactionTimeoutMs: settings.databaseIdleInTransactionTimeoutMs ?? 60_000,
      waitForDatabaseMs: settings.waitForDatabaseMs ?? 0,
      hnsw: { m: settings.hnswM ?? 16, efConstruction: settings.hnswEfConstruction ?? 64, efSearch: settings.hnswEfSearch ?? 100 },
      exactScanLimit: settings.exactScanLimit,
    });
    await adoptVersionOrClose(store);
    return { store, backend: 'postgres', vectorLog: null, nearest: store.vectors.column ? store : null };
  }
  const serving = options.serving !== false;
  const store = SqliteStore.open({
    file: sqliteFile(place.dataDir),
    busyTimeoutMs: settings.busyTimeoutMs,
    maxBytes: serving ? settings.maxDatabaseBytes : undefined,
    auditReserveBytes: serving ? settings.auditReserveBytes : undefined,
    cacheMb: settings.cacheMb,
  });
  await adoptVersionOrClose(store);
  if (serving) void store.prepareKeywordScoring();
  return { store, backend: 'sqlite', vectorLog: store.vectorLog, nearest: null };
}

/** A new, empty store is written by this version's keyword text from its first record (see MemoryStore.adoptKeywordTextVersion). */
async function adoptVersionOrClose(store: MemoryStore): Promise<void> {
  try {
    await store.adoptKeywordTextVersion(KEYWORD_TEXT_VERSION);
  } catch (error) {
    await store.close();
    throw error;
  }
}
