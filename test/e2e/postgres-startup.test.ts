import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { createDebianCluster, debianClusterVersion, freePort } from '../helpers/pg-cluster.js';
import { runCli, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { freshDatabase } from '../helpers/postgres.js';

/** The database comes up during the wait on a server of this test's own, which Debian's cluster tools make. */
const VERSION = debianClusterVersion();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-pg-start-');
  cleanups.push(cleanup);
  return dir;
}

/** Nothing listens on it (it was free a moment ago). */
const closedPortUrl = async (): Promise<{ url: string; port: number }> => {
  const port = await freePort();
  return { url: `postgres://pinak:hunter2@127.0.0.1:${port}/memories`, port };
};

/** A run that must fail at start: exit 1, one line on stderr, nothing on stdout (the MCP channel). */
function expectOneLineFailure(result: ReturnType<typeof runCli>, port: number): void {
  expect(result.status, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n')).toEqual([`pinak-memory: cannot reach PostgreSQL at postgres://pinak:***@127.0.0.1:${port}/memories: connect ECONNREFUSED 127.0.0.1:${port}`]);
  expect(result.stderr).not.toContain('hunter2');
}

describe('a server whose PostgreSQL cannot be reached at start', () => {
  it('exits 1 at once with one line naming the URL, its password hidden, over stdio and HTTP alike', async () => {
    const { url, port } = await closedPortUrl();
    for (const transport of [[], ['--transport', 'http', '--port', '0']]) {
      const started = performance.now();
      const result = runCli(['--data-dir', tempDir(), '--database-url', url, '--embed-model', 'none', ...transport], {}, '');
      expectOneLineFailure(result, port);
      expect(performance.now() - started).toBeLessThan(5000);
    }
  });

  it('with --wait-for-database-ms, keeps trying that long and then exits the same way', async () => {
    const { url, port } = await closedPortUrl();
    const started = performance.now();
    const result = runCli(['--data-dir', tempDir(), '--database-url', url, '--embed-model', 'none', '--wait-for-database-ms', '1500'], {}, '');
    const elapsed = performance.now() - started;
    expectOneLineFailure(result, port);
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(6000);
  });

  it.skipIf(VERSION === null)('with --wait-for-database-ms 8000, starts once the database comes up meanwhile', async () => {
    const cluster = createDebianCluster(VERSION!, await freePort());
    cleanups.push(() => cluster.stop());
    const spawned = performance.now();
    const starting = spawnServer(tempDir(), ['--database-url', cluster.url, '--embed-model', 'none', '--wait-for-database-ms', '8000']);
    starting.catch(() => {}); // awaited below
    await sleep(2000);
    const up = performance.now();
    await cluster.resume();
    const server = await starting;
    cleanups.push(() => server.close());
    const ready = performance.now();
    process.stderr.write(`postgres-startup: database started ${Math.round(up - spawned)} ms after the server, up after ${Math.round(ready - up)} ms more; server ready ${Math.round(ready - spawned)} ms after its start\n`);

    // It waited (its start took the database's), and serves as any other: a write, a search, the counts.
    expect(ready - spawned).toBeGreaterThanOrEqual(2000);
    const { stored } = await callOk(server.client, 'remember', { content: 'the database came up while the server waited for it' });
    const { hits } = await callOk(server.client, 'search_memory', { query: 'database came up', mode: 'keyword' });
    expect(hits.map((hit: { id: string }) => hit.id)).toEqual([stored[0].id]);
    expect((await callOk(server.client, 'memory_stats')).memories_total).toBe(1);
    // Waiting is no error: nothing said it could not reach the database.
    expect(server.stderr()).not.toMatch(/cannot reach|"level":(50|60)/);
  });
});

describe('a database without pgvector', () => {
  it('refuses to start with an embedding model, in one line saying what to install, and serves keyword search with --embed-model none', async () => {
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    const refused = runCli(['--data-dir', tempDir(), '--database-url', database.url], { PINAK_LOG_LEVEL: 'error' }, '');
    expect(refused.status, refused.stderr).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trimEnd().split('\n')).toEqual([
      'pinak-memory: the PostgreSQL database has no pgvector extension (vector): install it (e.g. the postgresql-NN-pgvector package, or the pgvector/pgvector image), or start with --embed-model none for keyword search only',
    ]);
    const server = await spawnServer(tempDir(), ['--database-url', database.url, '--embed-model', 'none']);
    cleanups.push(() => server.close());
    await callOk(server.client, 'remember', { content: 'kilns fire at dawn' });
    expect((await callOk(server.client, 'search_memory', { query: 'kilns', mode: 'keyword' })).hits).toHaveLength(1);
  });
});
