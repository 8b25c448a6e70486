/**
 * The PostgreSQL side of the benchmark: a fresh database per run (created
 * and dropped here when the role may), how the server is configured, and a
 * PGlite with pgvector in a child process for the vector measurements.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { redactDatabaseUrl } from '../../src/domain/database-url.js';
import { LOCAL_SCHEMA } from '../../src/store/open-store.js';

/** The settings a reader needs to judge the numbers, as `SHOW` reports them. */
const SHOWN = [
  'server_version', 'shared_buffers', 'synchronous_commit', 'fsync', 'full_page_writes', 'wal_level', 'work_mem',
  'effective_cache_size', 'random_page_cost', 'jit', 'max_connections',
] as const;

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `SHOW` of each setting that shapes the numbers (one a server lacks is left out), with where the server is. */
export async function describePostgres(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const out: Record<string, string> = { url: redactDatabaseUrl(url) };
    for (const name of SHOWN) {
      try {
        const { rows } = await client.query<Record<string, string>>(`SHOW ${name}`);
        out[name] = Object.values(rows[0] ?? {})[0] ?? '';
      } catch {
        // PGlite, or an older server, may not know every setting.
      }
    }
    const vector = await client.query<{ v: string | null }>(
      "SELECT COALESCE(installed_version, default_version) AS v FROM pg_available_extensions WHERE name = 'vector'",
    );
    out.pgvector = vector.rows[0]?.v ?? 'not available';
    return out;
  });
}

/** `url` naming another database on the same server. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export interface BenchDatabase {
  /** Where the server under test keeps its records. */
  url: string;
  /** Whether the database was made for this run (and is dropped by `drop`). */
  created: boolean;
  /** Remove what the run made: the database it created, else the schema it filled. */
  drop(): Promise<void>;
}

/**
 * A database for one measurement: a new one named after `label` when the
 * role may create databases; else the database `url` names, which must not
 * hold Pinak's schema yet (the run fills it, and removes it afterwards).
 */
export async function benchDatabase(url: string, label: string): Promise<BenchDatabase> {
  const mayCreate = await withClient(url, async (client) => {
    const { rows } = await client.query<{ may: boolean }>('SELECT rolsuper OR rolcreatedb AS may FROM pg_roles WHERE rolname = current_user');
    return rows[0]?.may === true;
  });
  if (mayCreate) {
    const name = `bench_pinak_${process.pid}_${label}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    const quoted = pg.escapeIdentifier(name);
    await withClient(url, (client) => client.query(`CREATE DATABASE ${quoted}`));
    return {
      url: withDatabase(url, name),
      created: true,
      drop: async () => {
        await withClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`));
      },
    };
  }
  const taken = await withClient(url, async (client) => (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [LOCAL_SCHEMA])).rowCount! > 0);
  if (taken) throw new Error(`${redactDatabaseUrl(url)} already holds a "${LOCAL_SCHEMA}" schema, and this role may not create a database: give an empty database, or a role with CREATEDB`);
  return { url, created: false, drop: () => dropSchema(url, LOCAL_SCHEMA) };
}

/** VACUUM ANALYZE the database: visibility maps and planner statistics, as autovacuum leaves them once it has caught up. */
export async function vacuumAnalyze(url: string): Promise<string> {
  await withClient(url, (client) => client.query('VACUUM (ANALYZE)'));
  return 'VACUUM (ANALYZE)';
}

/** Drop one schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`));
}

export interface PgliteChild {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** PGlite with pgvector in a child process (pglite-serve.ts), served over the wire protocol. */
export async function startPglite(): Promise<PgliteChild> {
  const script = fileURLToPath(new URL('./pglite-serve.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch (error) {
        reject(error as Error);
      }
    });
    child.once('exit', (code) => reject(new Error(`PGlite exited (${code}) before it listened`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
