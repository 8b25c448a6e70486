import { afterEach, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { callOk } from '../helpers/calls.js';
import { adminQuery, freshDatabase } from '../helpers/postgres.js';
import { spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const SERVERS = 4;
/** Each round a new database: a race that one start in a round escapes, another round may not. */
const ROUNDS = 3;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Log lines at error level or above (pino's 50 and 60). */
const errorLines = (log: string): string[] => log.split('\n').filter((line) => /"level":(50|60)/.test(line) || /^\s+at |Error:/.test(line));

describe('several servers starting at once on a new PostgreSQL database', () => {
  it(`${SERVERS} servers started together all come up; the schema is made once, one row per migration`, async () => {
    const newest = PG_MIGRATIONS.at(-1)!.version;
    for (let round = 0; round < ROUNDS; round++) {
      const database = await freshDatabase();
      cleanups.push(() => database.drop());
      const started = performance.now();
      const servers: Spawned[] = await Promise.all(
        Array.from({ length: SERVERS }, () => {
          const temp = makeTempDir('pinak-pg-migrate-');
          cleanups.push(temp.cleanup);
          return spawnServer(temp.dir, ['--database-url', database.url, '--embed-model', 'none']).then((server) => {
            cleanups.push(() => server.close());
            return server;
          });
        }),
      );
      process.stderr.write(`postgres-migrations: round ${round + 1}: ${SERVERS} servers up in ${Math.round(performance.now() - started)} ms\n`);

      for (const server of servers) {
        const stats = await callOk(server.client, 'memory_stats');
        expect(stats.schema_version).toBe(newest);
        expect(stats.memories_total).toBe(0);
      }
      const { rows } = await adminQuery<{ version: number; name: string }>('SELECT version, name FROM pinak.schema_migrations ORDER BY version', [], database.url);
      expect(rows).toEqual(PG_MIGRATIONS.map(({ version, name }) => ({ version, name })));
      // One schema, made once: each table of the first migration exists once, in it.
      const tables = await adminQuery<{ n: number }>("SELECT COUNT(*)::int AS n FROM pg_tables WHERE schemaname = 'pinak' AND tablename = 'memories'", [], database.url);
      expect(tables.rows[0]!.n).toBe(1);
      // They share it: what one stores, another finds.
      const { stored } = await callOk(servers[0]!.client, 'remember', { content: `round ${round} written by the first server` });
      for (const server of servers) expect((await callOk(server.client, 'get_memory', { id: stored[0].id })).missing).toEqual([]);
      for (const server of servers) expect(errorLines(server.stderr())).toEqual([]);
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    }
  }, 60_000);
});
