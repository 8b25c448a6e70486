import { afterAll } from 'vitest';
import { describeMemoryStoreContract } from '../contract/memory-store-contract.js';
import { openSqliteStore, removeSqliteDatabases } from '../contract/sqlite-backend.js';

afterAll(() => removeSqliteDatabases());

describeMemoryStoreContract('SqliteStore', openSqliteStore, {
  openInChildProcess: { module: new URL('../contract/sqlite-backend.ts', import.meta.url), exportName: 'openSqliteStore' },
});
