import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyAsync, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { rawRequest, spawnHttp, type HttpServer } from '../helpers/spawn-http.js';
import { runCli, runCliAsync } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * Two servers on one PostgreSQL database, each with a data directory of its
 * own: the API keys and the audit fingerprint secret live in the database,
 * so a key made once works on both, a revocation stops it on both at once,
 * and fingerprints match whichever server wrote the row. Neither server
 * writes its records, keys or secret in its data directory. The servers
 * outlive each test, and so do this process's keep-alive connections to
 * them: the CLI runs without blocking (runCliAsync, createKeyAsync) so that
 * none of them is reused after the server closed it meanwhile.
 */
let database: FreshDatabase;
const dirs = [makeTempDir(), makeTempDir(), makeTempDir()];
const servers: HttpServer[] = [];
const onDatabase = (): string[] => ['--database-url', database.url];
/** Servers on the test database, which has no pgvector: keyword search only. */
const serverArgs = (): string[] => [...onDatabase(), '--embed-model', 'none', '--auth', 'keys'];

beforeAll(async () => {
  database = await freshDatabase();
  for (const dir of dirs.slice(0, 2)) servers.push(await spawnHttp(dir.dir, serverArgs()));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await database.drop();
  for (const dir of dirs) dir.cleanup();
});

describe('API keys and the audit secret in PostgreSQL', () => {
  it('a key made once (from a third directory) works on every server, and its revocation stops it on all of them', async () => {
    const { key, id } = await createKeyAsync(dirs[2]!.dir, ['--tenant', 'acme', '--role', 'writer', ...onDatabase()]);
    const [a, b] = await Promise.all(servers.map((server) => keyedClient(server.origin, key)));
    const stored = await callOk(a!.client, 'remember', { content: 'the kiln fires at dawn on Thursdays' });
    const found = await callOk(b!.client, 'search_memory', { query: 'kiln dawn', mode: 'keyword' });
    expect(found.hits.map((hit: { id: string }) => hit.id)).toEqual([stored.stored[0].id]);

    const revoked = await runCliAsync(['--data-dir', dirs[2]!.dir, 'keys', 'revoke', id, ...onDatabase()]);
    expect(revoked.status, revoked.stderr).toBe(0);
    for (const server of servers) {
      const fresh = await keyedClient(server.origin, key).then(
        () => 'connected',
        (error: Error) => error.message,
      );
      expect(fresh).toMatch(/revoked/);
    }
    const listed = await runCliAsync(['--data-dir', dirs[0]!.dir, 'keys', 'list', ...onDatabase()]);
    expect(listed.stdout).toContain(id);
    await Promise.all([a!.client.close(), b!.client.close()]);
  });

  it('a key revoked from the command line is refused by both servers at once, and its open sessions and streams on both end within a second', async () => {
    const { key, id } = await createKeyAsync(dirs[2]!.dir, ['--tenant', 'acme', '--role', 'writer', ...onDatabase()]);
    const [a, b] = servers as [HttpServer, HttpServer];
    const session = await keyedClient(b.origin, key);
    await callOk(session.client, 'remember', { content: 'written before the revocation on the second server' });
    const streams = [await sseStream(a.port, key), await sseStream(b.port, key)];
    try {
      const revoked = await runCliAsync(['--data-dir', dirs[2]!.dir, 'keys', 'revoke', id, ...onDatabase()]);
      expect(revoked.status, revoked.stderr).toBe(0);
      const since = Date.now();
      // The next request to either server is refused: each checks the key in the database with every request.
      for (const server of [b, a]) {
        const refused = await rawRequest(server.port, {
          method: 'POST',
          path: '/mcp',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: `127.0.0.1:${server.port}`, authorization: `Bearer ${key}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        });
        expect([refused.status, refused.json().error.message]).toEqual([401, 'Unauthorized: the API key was revoked; ask for a new one']);
      }
      await expect(session.client.callTool({ name: 'memory_stats', arguments: {} })).rejects.toThrow(/401|revoked/);
      // What it had open ends within a second on both (each server looks at its sessions' keys every 500 ms).
      while (!streams.every((stream) => stream.ended())) {
        expect(Date.now() - since).toBeLessThan(1000);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      for (const stream of streams) stream.close();
      await session.client.close().catch(() => {});
    }
  });

  it('fingerprints one secret: the CLI fingerprint of a call matches the row either server wrote', async () => {
    const { key } = await createKeyAsync(dirs[2]!.dir, ['--tenant', 'local', '--role', 'admin', ...onDatabase()]);
    const args = { content: 'a call to find in the trail later' };
    for (const server of servers) {
      const { client } = await keyedClient(server.origin, key);
      await callOk(client, 'remember', args);
      await client.close();
    }
    const fingerprint = runCli(['--data-dir', dirs[2]!.dir, 'audit', 'fingerprint', '--args', JSON.stringify(args), ...onDatabase()]);
    expect(fingerprint.status, fingerprint.stderr).toBe(0);
    const trail = runCli(['--data-dir', dirs[2]!.dir, 'audit', 'export', ...onDatabase()]);
    const rows = trail.stdout.trim().split('\n').map((line) => JSON.parse(line) as { tool: string; args_sha256: string });
    expect(rows.filter((row) => row.tool === 'remember' && row.args_sha256 === fingerprint.stdout.trim())).toHaveLength(2);
  });

  it('keeps nothing in the servers\' data directories', () => {
    for (const dir of dirs) {
      const kept = existsSync(dir.dir) ? readdirSync(dir.dir) : [];
      expect(kept.filter((name) => ['pinak.db', 'keys.db', 'audit-fingerprint.key', 'vectors', 'tenants'].includes(name)), join(dir.dir)).toEqual([]);
    }
  });
});

/** A raw legacy SSE stream (GET /sse) with a key; `ended` turns true when the server ends the response. */
function sseStream(port: number, key: string): Promise<{ ended: () => boolean; close: () => void }> {
  return new Promise((resolve, reject) => {
    let ended = false;
    const req = request({ host: '127.0.0.1', port, path: '/sse', headers: { host: `127.0.0.1:${port}`, accept: 'text/event-stream', authorization: `Bearer ${key}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /sse answered ${res.statusCode}`));
      res.on('data', () => {});
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve({ ended: () => ended, close: () => req.destroy() });
    });
    req.on('error', () => (ended = true));
    req.end();
  });
}
