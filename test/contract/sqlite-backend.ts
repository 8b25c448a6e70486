import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import type { OpenStore, SharedDatabase } from './memory-store-contract.js';

/**
 * The SQLite backend for the store contract. A database is a file: `open()`
 * makes a new one in a temp directory of this process, `open(file)` opens that
 * file (here, or in the lease tests' second process). The files stay until
 * `removeSqliteDatabases()`.
 */

let temp: { dir: string; cleanup: () => void } | undefined;
let made = 0;

export const openSqliteStore: OpenStore = async (database?: SharedDatabase) => {
  if (database !== undefined && typeof database !== 'string') throw new Error(`an SQLite database is a file path, not ${JSON.stringify(database)}`);
  let file = database;
  if (file === undefined) {
    temp ??= makeTempDir('pinak-store-contract-');
    made += 1;
    file = join(temp.dir, `db-${made}`, 'pinak.db');
  }
  const store = SqliteStore.open({ file, busyTimeoutMs: 5000 });
  // As the server does at start: keyword scores computed in memory from the start (FTS5 scores the same, without `matched`).
  await store.prepareKeywordScoring();
  return { store, database: file, close: () => store.close() };
};

/** Remove every database `openSqliteStore` made in this process. */
export function removeSqliteDatabases(): void {
  temp?.cleanup();
  temp = undefined;
}
