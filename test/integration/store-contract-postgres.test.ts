import { afterAll } from 'vitest';
import { describeMemoryStoreContract } from '../contract/memory-store-contract.js';
import { dropPostgresDatabases, openPostgresStore } from '../contract/postgres-backend.js';

afterAll(() => dropPostgresDatabases());

describeMemoryStoreContract('PostgresStore', openPostgresStore, {
  openInChildProcess: { module: new URL('../contract/postgres-backend.ts', import.meta.url), exportName: 'openPostgresStore' },
});
