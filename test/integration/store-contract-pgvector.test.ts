import { afterAll, beforeAll } from 'vitest';
import type { SharedDatabase } from '../contract/memory-store-contract.js';
import { describeMemoryStoreContract } from '../contract/memory-store-contract.js';
import { openAt, openPostgresStore } from '../contract/postgres-backend.js';
import { startPgliteServer, type PgliteServer } from '../helpers/pglite-server.js';

/** The contract again where vectors live in pgvector's column: PGlite with pgvector, one schema per store. */
let server: PgliteServer;
let made = 0;
beforeAll(async () => {
  server = await startPgliteServer();
});
afterAll(async () => {
  await server.stop();
});

describeMemoryStoreContract(
  'PostgresStore with pgvector',
  async (shared?: SharedDatabase) => (shared === undefined ? openAt({ url: server.url, schema: `pgvector_${++made}` }, 1) : openPostgresStore(shared)),
  { openInChildProcess: { module: new URL('../contract/postgres-backend.ts', import.meta.url), exportName: 'openPostgresStore' } },
);
