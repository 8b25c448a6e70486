import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server of this test run, as a superuser's URL: set by the
 * global setup (a throwaway cluster) or by whoever runs the tests.
 */
export function testDatabaseUrl(): string {
  const url = process.env.PINAK_TEST_DATABASE_URL;
  if (url === undefined || url === '') throw new Error('PINAK_TEST_DATABASE_URL is not set: the tests\' global setup sets it (see test/helpers/global-setup.ts)');
  return url;
}

/** `url` naming another database on the same server, with the same user and parameters. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * Run one statement as the test server's superuser, on its administrative
 * database (the one PINAK_TEST_DATABASE_URL names), over a connection of
 * its own that is closed afterwards.
 */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = [], url = testDatabaseUrl()): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<R>(text, values);
  } finally {
    await client.end();
  }
}

let created = 0;

/** A database on the test server no other test uses, and how to drop it. */
export interface FreshDatabase {
  /** Its name: pinak_test_ and a part unique to this run. */
  name: string;
  /** The superuser's URL to it. */
  url: string;
  /** Drop it, ending whatever connections are still open to it; safe to call twice. */
  drop(): Promise<void>;
}

/** Create a new, empty database on the test server, uniquely named, for one test or file to own. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const admin = testDatabaseUrl();
  created += 1;
  const name = `pinak_test_${process.pid}_${created}_${randomBytes(4).toString('hex')}`;
  const quoted = pg.escapeIdentifier(name);
  await adminQuery(`CREATE DATABASE ${quoted}`, [], admin);
  return {
    name,
    url: withDatabase(admin, name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`, [], admin);
    },
  };
}
