import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import type { OpenStore, SharedDatabase } from './memory-store-contract.js';

/**
 * The PostgreSQL backend for the store contract. A database is a schema in
 * a database of the test server: `open()` makes a new schema in this
 * process's database, `open({ url, schema })` connects to that one (here, or
 * in the lease tests' second process). The database goes at `dropPostgresDatabases()`.
 */

let database: Promise<FreshDatabase> | undefined;
let made = 0;

interface Place {
  url: string;
  schema: string;
}

const isPlace = (value: SharedDatabase | undefined): value is SharedDatabase & Place =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Record<string, unknown>).url === 'string' && typeof (value as Record<string, unknown>).schema === 'string';

/** Open a store at a place; `size` connections (PGlite needs one: it runs every client in one session). */
export async function openAt(place: Place, size = 4): Promise<Awaited<ReturnType<OpenStore>>> {
  const store = await PostgresStore.open({ url: place.url, schema: place.schema, size, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, idleInTransactionTimeoutMs: 60_000 });
  return { store, database: { ...place }, close: () => store.close() };
}

export const openPostgresStore: OpenStore = async (shared?: SharedDatabase) => {
  if (shared !== undefined) {
    if (!isPlace(shared)) throw new Error(`a PostgreSQL database here is { url, schema }, not ${JSON.stringify(shared)}`);
    return openAt(shared);
  }
  database ??= freshDatabase();
  made += 1;
  return openAt({ url: (await database).url, schema: `contract_${made}` });
};

/** Drop the database `openPostgresStore` made in this process. */
export async function dropPostgresDatabases(): Promise<void> {
  const made = database;
  database = undefined;
  await (await made)?.drop();
}
