import { defineConfig } from 'vitest/config';

/**
 * The tool suite run again on PostgreSQL (PINAK_TEST_BACKEND=postgres, see
 * test/helpers/in-memory-server.ts): every integration file that drives the
 * tools through a linked server, not those about SQLite's own files, FTS5
 * internals or the local vector index.
 */
const ON_POSTGRES = [
  'access', 'audit', 'bad-input', 'goals', 'idempotency', 'label-fields', 'list-arguments', 'memories', 'outcome-learning', 'outcome-scenario', 'reserved-keys', 'search',
  'list-questions', 'search-budget', 'secrets', 'provenance', 'trust', 'quarantine',
  'surface-access', 'threads', 'thread-windows', 'time-in-questions', 'tool-contracts', 'unusual-text', 'vector-search',
].map((name) => `test/integration/${name}.test.ts`);

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: spawning servers from many workers at once only adds noise.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'postgres', include: ON_POSTGRES, env: { PINAK_TEST_BACKEND: 'postgres' } } },
    ],
  },
});
