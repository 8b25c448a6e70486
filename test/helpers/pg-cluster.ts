import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { redactDatabaseUrl } from '../../src/domain/database-url.js';
import { freePort } from '../../scripts/lib/free-port.js';

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export { freePort };

/** Where Debian's PostgreSQL server packages put each major version's programs. */
const SERVER_VERSIONS_DIR = '/usr/lib/postgresql';

/** What the tests are told when they have no PostgreSQL server. */
export const NO_POSTGRES_MESSAGE =
  'the tests need a PostgreSQL server: install postgresql (apt-get install postgresql, which brings pg_createcluster), or set PINAK_TEST_DATABASE_URL=postgres://user@host:port/db';

/** A PostgreSQL server for the tests, and how to end it. */
export interface TestCluster {
  /** A superuser's URL to its `postgres` database. */
  url: string;
  /** Stop the server and remove all its files; safe to call twice. */
  stop(): void;
}

/**
 * A cluster started here, which a test may also take down and bring back
 * with its data kept (a database restart, as its clients see one). Both run
 * the cluster tools without blocking the test's event loop, so clients in
 * the test keep working (and failing) meanwhile.
 */
export interface DebianCluster extends TestCluster {
  port: number;
  /** Stop the server (PostgreSQL's fast shutdown by default: open sessions are ended at once), keeping its files. */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Start it again after `halt`; resolves once it accepts connections. */
  resume(): Promise<void>;
}

/** The newest PostgreSQL major version Debian's cluster tools can run here, or null when they are missing. */
export function debianClusterVersion(env: NodeJS.ProcessEnv = process.env): string | null {
  if (!['pg_createcluster', 'pg_ctlcluster', 'pg_dropcluster'].every((program) => onPath(program, env))) return null;
  if (!existsSync(SERVER_VERSIONS_DIR)) return null;
  const versions = readdirSync(SERVER_VERSIONS_DIR)
    .filter((name) => /^\d+(?:\.\d+)?$/.test(name) && existsSync(join(SERVER_VERSIONS_DIR, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ?? null;
}

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/**
 * Start a throwaway PostgreSQL server with Debian's cluster tools: a cluster
 * whose configuration, data, socket and log all live in one new temporary
 * directory (so the machine's own clusters, and its list of them, are left
 * alone), listening on loopback only (localhost, the default) on a free
 * port, with trust authentication, and tuned for tests (no fsync). As root the tools run the server as the
 * postgres user; otherwise as the user running the tests. The superuser is
 * named postgres either way.
 */
export async function startDebianCluster(version: string, env: NodeJS.ProcessEnv = process.env): Promise<DebianCluster> {
  let lastError: unknown;
  // A port found free can be taken before the server binds it: try another.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const cluster = createDebianCluster(version, await freePort(), env);
    try {
      await cluster.resume();
      return cluster;
    } catch (error) {
      lastError = new Error(`could not start a PostgreSQL ${version} test cluster on port ${cluster.port}: ${(error as Error).message}`);
      cluster.stop();
    }
  }
  throw lastError;
}

/**
 * A cluster as startDebianCluster makes it, on the given port, but not
 * started: `resume` starts it (for a test whose client must be waiting
 * for the server before it comes up).
 */
export function createDebianCluster(version: string, port: number, env: NodeJS.ProcessEnv = process.env): DebianCluster {
  const cluster = createCluster(version, port, env);
  return {
    url: cluster.url,
    stop: cluster.stop,
    port,
    halt: (mode = 'fast') => clusterCommand(version, cluster, ['--mode', mode], 'stop'),
    resume: () => clusterCommand(version, cluster, [], 'start'),
  };
}

/** `pg_ctlcluster <options…> <version> <name> <action>`, run without blocking; rejects with what it printed. */
function clusterCommand(version: string, cluster: { name: string; env: NodeJS.ProcessEnv }, options: string[], action: 'start' | 'stop'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('pg_ctlcluster', ['--skip-systemctl-redirect', ...options, version, cluster.name, action], { env: cluster.env }, (error, stdout, stderr) => {
      if (error) reject(new Error(commandOutput(Object.assign(error, { stdout: Buffer.from(stdout), stderr: Buffer.from(stderr) }))));
      else resolve();
    });
  });
}

let clustersMade = 0;

function createCluster(version: string, port: number, parentEnv: NodeJS.ProcessEnv): TestCluster & { name: string; env: NodeJS.ProcessEnv } {
  const base = mkdtempSync(join(tmpdir(), 'pinak-pg-'));
  // As root, the server runs as postgres, which must reach the directories inside.
  chmodSync(base, 0o755);
  // Unique on this machine: the tools keep a pid file per cluster name in a shared directory.
  clustersMade += 1;
  const name = `pinaktest${process.pid}x${clustersMade}`;
  const env = { ...parentEnv, PG_CLUSTER_CONF_ROOT: join(base, 'etc') };
  const log = join(base, 'postgresql.log');
  let stopped = false;
  const cluster = {
    name,
    env,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      if (stopped) return;
      stopped = true;
      try {
        execFileSync('pg_dropcluster', ['--stop', version, name], { env, stdio: 'ignore' });
      } catch {
        // Never created, or already gone: the files go all the same.
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
  try {
    execFileSync('pg_createcluster', [
      version, name,
      '--port', String(port),
      '--datadir', join(base, 'data'),
      '--socketdir', join(base, 'socket'),
      '--logfile', log,
      '--start-conf', 'manual',
      '--locale', 'C.UTF-8',
      '--pgoption', 'max_connections=200',
      '--pgoption', 'fsync=off',
      '--pgoption', 'synchronous_commit=off',
      '--pgoption', 'full_page_writes=off',
      '--',
      '--auth', 'trust', '--username', 'postgres', '--no-sync',
    ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    cluster.stop();
    throw new Error(`could not create a PostgreSQL ${version} test cluster: ${commandOutput(error)}`);
  }
  return cluster;
}

/** What a failed command said, in a few lines. */
function commandOutput(error: unknown): string {
  const failed = error as { stderr?: Buffer; stdout?: Buffer; message?: string };
  const text = `${failed.stderr?.toString() ?? ''}${failed.stdout?.toString() ?? ''}`.trim() || (failed.message ?? String(error));
  return text.split('\n').slice(-10).join('\n');
}

/** Wait until the server at `url` answers `SELECT 1`, for at most `timeoutMs`; throws naming the (redacted) URL otherwise. */
export async function waitForPostgres(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
      if (rows[0]?.one === 1) return;
      throw new Error(`SELECT 1 answered ${JSON.stringify(rows)}`);
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`PostgreSQL at ${redactDatabaseUrl(url)} does not answer: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/**
 * The PostgreSQL server the tests use: the one PINAK_TEST_DATABASE_URL names,
 * else a throwaway cluster started here with Debian's tools; fails with one
 * message saying what to do when neither is there. It answers `SELECT 1`
 * before this resolves; `stop` ends a cluster started here and leaves a named
 * server alone.
 */
export async function testPostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestCluster> {
  const named = env.PINAK_TEST_DATABASE_URL;
  if (named !== undefined && named !== '') {
    await waitForPostgres(named, 10_000);
    return { url: named, stop: () => {} };
  }
  const version = debianClusterVersion(env);
  if (version === null) throw new Error(NO_POSTGRES_MESSAGE);
  const cluster = await startDebianCluster(version, env);
  try {
    await waitForPostgres(cluster.url, 10_000);
  } catch (error) {
    cluster.stop();
    throw error;
  }
  return cluster;
}
