import { afterEach, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../src/store/postgres/schema-versions.js';
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

/** The doc_terms table as version 1 made it, taken from that migration's own text. */
function version1DocTerms(): string {
  const match = /CREATE TABLE doc_terms \([^;]*\);\s*CREATE INDEX doc_terms_doc ON doc_terms \(doc_id\);/.exec(PG_MIGRATIONS.find((m) => m.version === 1)!.sql);
  if (!match) throw new Error('migration 1 no longer creates doc_terms as this test expects');
  return match[0];
}

describe('a database of the previous schema version', () => {
  it('is upgraded in place at start (version 1 to the newest): the same searches find the same memories in the same order, and writing goes on', async () => {
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    const temp = makeTempDir('pinak-pg-upgrade-');
    cleanups.push(temp.cleanup);
    const args = ['--database-url', database.url, '--embed-model', 'none'];
    const queries = ['harbour ferry', 'ferry', 'lantern', 'winter lantern harbour'];
    const words = ['harbour', 'ferry', 'lantern', 'winter', 'copper', 'gull'];

    const first: Spawned = await spawnServer(temp.dir, args);
    const contents = Array.from({ length: 60 }, (_, i) => `${words[i % 6]} ${words[(i * 5 + 1) % 6]} note ${i} ${i % 7 === 0 ? words[(i + 2) % 6] : ''}`.trim());
    for (let i = 0; i < contents.length; i += 20) await callOk(first.client, 'remember', { memories: contents.slice(i, i + 20).map((content) => ({ content })) });
    const before = [];
    for (const query of queries) before.push((await callOk(first.client, 'search_memory', { query, mode: 'keyword', limit: 20 })).hits.map((h: { id: string }) => h.id));
    await first.close();

    // Back to version 1: its doc_terms (no length per posting), no provenance columns, no table of the migrations after it, and no record of them.
    await adminQuery(`BEGIN; SET LOCAL search_path TO pinak;
      DROP TABLE lesson_evidence;
      CREATE TEMP TABLE postings AS SELECT term, doc_id, tf FROM doc_terms;
      DROP TABLE doc_terms;
      ${version1DocTerms()}
      INSERT INTO doc_terms (term, doc_id, tf) SELECT term, doc_id, tf FROM postings;
      ALTER TABLE memories DROP COLUMN origin, DROP COLUMN origin_ref, DROP COLUMN written_by;
      ALTER TABLE goals DROP COLUMN origin, DROP COLUMN origin_ref, DROP COLUMN written_by;
      ALTER TABLE outcomes DROP COLUMN origin, DROP COLUMN origin_ref, DROP COLUMN written_by;
      ALTER TABLE search_docs DROP COLUMN origin;
      DELETE FROM schema_migrations WHERE version >= 2;
      COMMIT;`, [], database.url);
    expect((await adminQuery(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'pinak' AND table_name = 'doc_terms' AND column_name = 'tokens'`, [], database.url)).rows[0]!.n).toBe(0);

    const second: Spawned = await spawnServer(temp.dir, args);
    cleanups.push(() => second.close());
    const versions = await adminQuery<{ version: number }>('SELECT version FROM pinak.schema_migrations ORDER BY version', [], database.url);
    expect(versions.rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    const wrong = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM pinak.doc_terms p JOIN pinak.search_docs d USING (doc_id) WHERE p.tokens <> d.tokens', [], database.url);
    expect(wrong.rows[0]!.n).toBe(0);
    for (const [i, query] of queries.entries()) {
      expect((await callOk(second.client, 'search_memory', { query, mode: 'keyword', limit: 20 })).hits.map((h: { id: string }) => h.id), query).toEqual(before[i]);
    }
    const { stored } = await callOk(second.client, 'remember', { content: 'a gull after the upgrade zz9q' });
    expect((await callOk(second.client, 'search_memory', { query: 'zz9q', mode: 'keyword' })).hits.map((h: { id: string }) => h.id)).toEqual([stored[0].id]);
    // Memories stored before provenance read as not recorded; the new one is the agent's, written by the local principal.
    const { memories } = await callOk(second.client, 'get_memory', { ids: [before[0]![0], stored[0].id] });
    expect(memories.map((m: { origin: unknown; written_by: unknown }) => [m.origin, m.written_by])).toEqual([[null, null], ['agent', 'local']]);
    expect((await callOk(second.client, 'search_memory', { query: 'zz9q gull', mode: 'keyword', origins: ['agent'] })).hits.map((h: { id: string }) => h.id)).toEqual([stored[0].id]);
    expect(errorLines(second.stderr())).toEqual([]);
  }, 60_000);
});
