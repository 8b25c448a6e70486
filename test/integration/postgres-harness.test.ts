import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianClusterVersion, NO_POSTGRES_MESSAGE, testPostgres, waitForPostgres } from '../helpers/pg-cluster.js';
import { startPgliteServer, type PgliteServer } from '../helpers/pglite-server.js';
import { adminQuery, freshDatabase, testDatabaseUrl } from '../helpers/postgres.js';

/** Connect a client to `url`, run `use`, and close it whatever happens. */
async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** What a failed query was refused with: its SQLSTATE code and message. */
async function refusal(run: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(pg.DatabaseError);
    return { code: (error as pg.DatabaseError).code, message: (error as Error).message };
  }
  throw new Error('the query succeeded');
}

describe('the test PostgreSQL server', () => {
  it('is PostgreSQL 15 or later, answering on PINAK_TEST_DATABASE_URL', async () => {
    const { rows } = await adminQuery<{ server_version_num: string }>('SHOW server_version_num');
    expect(Number(rows[0]!.server_version_num)).toBeGreaterThanOrEqual(150_000);
    expect(testDatabaseUrl()).toMatch(/^postgres(?:ql)?:\/\//);
  });

  it('gives each fresh database to one owner: same server, separate tables', async () => {
    const a = await freshDatabase();
    const b = await freshDatabase();
    try {
      expect(a.name).not.toBe(b.name);
      expect(a.name).toMatch(/^pinak_test_/);
      await withClient(a.url, async (client) => {
        expect((await client.query('SELECT current_database() AS db')).rows[0].db).toBe(a.name);
        await client.query('CREATE TABLE memories (id int PRIMARY KEY, content text)');
        await client.query("INSERT INTO memories VALUES (1, 'only in a')");
      });
      await withClient(b.url, async (client) => {
        expect((await client.query('SELECT current_database() AS db')).rows[0].db).toBe(b.name);
        expect((await client.query("SELECT to_regclass('memories') AS t")).rows[0].t).toBeNull();
        // The same name is free here, and holds only what this database was given.
        await client.query('CREATE TABLE memories (id int PRIMARY KEY, content text)');
        expect((await client.query('SELECT count(*)::int AS n FROM memories')).rows[0].n).toBe(0);
      });
      await withClient(a.url, async (client) => {
        expect((await client.query('SELECT content FROM memories')).rows).toEqual([{ content: 'only in a' }]);
      });
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  it('drops a fresh database even while connections to it are open, and a second drop is harmless', async () => {
    const fresh = await freshDatabase();
    const pool = new pg.Pool({ connectionString: fresh.url, max: 3 });
    // The pool's connections are ended under it: that is expected here.
    pool.on('error', () => {});
    await Promise.all([1, 2, 3].map(() => pool.query('SELECT pg_backend_pid()')));
    expect(pool.totalCount).toBeGreaterThan(0);
    await fresh.drop();
    await fresh.drop();
    const { rows } = await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [fresh.name]);
    expect(rows).toEqual([]);
    await pool.end();
  });

  it('has full-text search: to_tsvector stems English words, and @@ matches them', async () => {
    const fresh = await freshDatabase();
    try {
      await withClient(fresh.url, async (client) => {
        const { rows } = await client.query("SELECT to_tsvector('english', 'The dogs were running home') AS v");
        expect(rows[0].v).toBe("'dog':2 'home':5 'run':4");
        const match = await client.query("SELECT to_tsvector('english', $1) @@ websearch_to_tsquery('english', $2) AS hit", ['The dogs were running home', 'dog runs']);
        expect(match.rows[0].hit).toBe(true);
      });
    } finally {
      await fresh.drop();
    }
  });

  it('has no pgvector: CREATE EXTENSION vector fails with 0A000, and aborts only up to a savepoint', async () => {
    const fresh = await freshDatabase();
    try {
      await withClient(fresh.url, async (client) => {
        const available = await client.query("SELECT name FROM pg_available_extensions WHERE name = 'vector'");
        expect(available.rows, 'this PostgreSQL has pgvector installed; the tests expect the plain server').toEqual([]);
        expect(await refusal(client.query('CREATE EXTENSION vector'))).toEqual({ code: '0A000', message: 'extension "vector" is not available' });
        expect(await refusal(client.query('CREATE EXTENSION IF NOT EXISTS vector'))).toMatchObject({ code: '0A000' });
        // Inside a transaction the failure aborts it, unless tried under a savepoint.
        await client.query('BEGIN');
        await client.query('SAVEPOINT try_vector');
        await refusal(client.query('CREATE EXTENSION IF NOT EXISTS vector'));
        await client.query('ROLLBACK TO SAVEPOINT try_vector');
        await client.query('CREATE TABLE after_the_try (id int)');
        await client.query('COMMIT');
        expect((await client.query("SELECT to_regclass('after_the_try') AS t")).rows[0].t).toBe('after_the_try');
        await client.query('BEGIN');
        await refusal(client.query('CREATE EXTENSION IF NOT EXISTS vector'));
        expect(await refusal(client.query('SELECT 1'))).toMatchObject({ code: '25P02' });
        await client.query('ROLLBACK');
      });
    } finally {
      await fresh.drop();
    }
  });
});

describe('the global setup\'s own server', () => {
  it('starts a throwaway cluster with Debian\'s tools when no URL is given, and removes it', async () => {
    if (debianClusterVersion() === null) {
      // Without the tools the setup must be given a server, and says so.
      await expect(testPostgres({ PATH: process.env.PATH ?? '' })).rejects.toThrow(NO_POSTGRES_MESSAGE);
      return;
    }
    const cluster = await testPostgres({ PATH: process.env.PATH ?? '' });
    expect(cluster.url).not.toBe(testDatabaseUrl());
    expect(cluster.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect((await adminQuery('SELECT 1 AS one', [], cluster.url)).rows).toEqual([{ one: 1 }]);
    cluster.stop();
    cluster.stop();
    await expect(waitForPostgres(cluster.url, 0)).rejects.toThrow(/does not answer/);
  });

  it('uses the server PINAK_TEST_DATABASE_URL names, and leaves it running', async () => {
    const named = await testPostgres({ PINAK_TEST_DATABASE_URL: testDatabaseUrl() });
    expect(named.url).toBe(testDatabaseUrl());
    named.stop();
    expect((await adminQuery('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('says plainly when it has no server, and never shows a password', async () => {
    await expect(testPostgres({ PATH: '' })).rejects.toThrow(NO_POSTGRES_MESSAGE);
    expect(NO_POSTGRES_MESSAGE).toMatch(/install postgresql.*or set PINAK_TEST_DATABASE_URL/);
    const error = await waitForPostgres('postgres://pinak:hunter2@127.0.0.1:1/postgres', 0).catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^PostgreSQL at postgres:\/\/pinak:\*\*\*@127\.0\.0\.1:1\/postgres does not answer: /);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('PGlite with pgvector, over the wire', () => {
  let server: PgliteServer;
  beforeAll(async () => {
    server = await startPgliteServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('creates the vector extension and orders rows by cosine distance with <=>', async () => {
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    await withClient(server.url, async (client) => {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      await client.query('CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))');
      await client.query("INSERT INTO items VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]'), (4, '[-1,0,0]')");
      const { rows } = await client.query<{ id: number; distance: number }>(
        'SELECT id, embedding <=> $1 AS distance FROM items ORDER BY embedding <=> $1 LIMIT 4',
        ['[1,0,0]'],
      );
      expect(rows.map((row) => row.id)).toEqual([1, 3, 2, 4]);
      expect(rows[0]!.distance).toBeCloseTo(0, 6);
      expect(rows[2]!.distance).toBeCloseTo(1, 6);
      expect(rows[3]!.distance).toBeCloseTo(2, 6);
      // The column's dimension is enforced.
      expect(await refusal(client.query("INSERT INTO items VALUES (5, '[1,0]')"))).toMatchObject({ message: 'expected 3 dimensions, not 2' });
      // And full-text search is there too.
      expect((await client.query("SELECT to_tsvector('english', 'running dogs') AS v")).rows[0].v).toBe("'dog':2 'run':1");
    });
  });

  it('serves a pool of connections, running their statements one at a time: a transaction holds the others back until it ends', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 4 });
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [i, `s${i}`])));
      expect(answers.map((answer) => answer.rows[0])).toEqual(Array.from({ length: 40 }, (_, i) => ({ n: i, s: `s${i}` })));
      expect(pool.totalCount).toBeGreaterThan(1);

      await pool.query('CREATE TABLE IF NOT EXISTS counter (n int)');
      const writer = await pool.connect();
      const reader = await pool.connect();
      try {
        await writer.query('BEGIN');
        await writer.query('INSERT INTO counter VALUES (1)');
        let readerAnswered = false;
        const read = reader.query<{ n: number }>('SELECT count(*)::int AS n FROM counter').then((result) => {
          readerAnswered = true;
          return result.rows[0]!.n;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(readerAnswered).toBe(false);
        await writer.query('COMMIT');
        expect(await read).toBe(1);
      } finally {
        writer.release();
        reader.release();
      }
    } finally {
      await pool.end();
    }
  });

  it('stops: no more connections, and a second stop is harmless', async () => {
    const own = await startPgliteServer();
    await withClient(own.url, async (client) => {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
    await own.stop();
    await own.stop();
    expect(own.db.closed).toBe(true);
    await expect(waitForPostgres(own.url, 0)).rejects.toThrow(/does not answer/);
  });
});
