import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { SnapshotManifest } from '../../src/domain/vector-log.js';
import { snapshotProblem } from '../../src/vector/snapshot-files.js';
import { callOk } from '../helpers/calls.js';
import { seededRandom, sentence } from '../helpers/sentences.js';
import { CLI, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-multi-');
afterAll(() => temp.cleanup());

const PROCESSES = 3;
const PER_PROCESS = 300;
const BATCH = 10;

async function findsByKeyword(server: Spawned, id: string, content: string): Promise<boolean> {
  const { hits } = await callOk(server.client, 'search_memory', { query: content, mode: 'keyword', limit: 5 });
  return hits.some((h: { id: string }) => h.id === id);
}

async function findsByVector(server: Spawned, id: string, content: string): Promise<boolean> {
  const { hits } = await callOk(server.client, 'search_memory', { query: content, mode: 'vector', limit: 5 });
  return hits.some((h: { id: string }) => h.id === id);
}

/** Run the CLI without waiting: resolves with its exit code and stderr. */
function runAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('several server processes on one data directory', () => {
  it('all open a new data directory created at the same moment (each migration applied once)', async () => {
    // Without the migration lock, about every other run of this test had a process fail with "table … already exists".
    for (let round = 0; round < 10; round++) {
      const dir = join(temp.dir, `fresh-${round}`);
      mkdirSync(dir);
      const runs = await Promise.all(Array.from({ length: 5 }, () => runAsync(['export', '--data-dir', dir])));
      expect(runs.filter((run) => run.code !== 0).map((run) => run.stderr)).toEqual([]);
    }
    // Fifty process starts: a few seconds on a quiet machine, far more on a busy one.
  }, 120_000);

  it(`${PROCESSES} processes each write ${PER_PROCESS} memories while the others search; every process then finds all of them`, async () => {
    const args = ['--snapshot-every-changes', '150', '--snapshot-interval-ms', '500'];
    const servers = await Promise.all(Array.from({ length: PROCESSES }, () => spawnServer(temp.dir, args)));
    try {
      // Read-your-peer's-writes: a memory stored through one process is found by another at once, in every mode.
      const probe = (await callOk(servers[0]!.client, 'remember', { content: 'lantern compass glacier meadow harbor' })).stored[0].id;
      for (const mode of ['keyword', 'vector', 'hybrid']) {
        const { hits } = await callOk(servers[1]!.client, 'search_memory', { query: 'lantern compass glacier meadow harbor', mode, limit: 3 });
        expect(hits.map((h: { id: string }) => h.id), mode).toContain(probe);
      }

      const written: Array<{ id: string; content: string }> = [];
      await Promise.all(
        servers.map(async (server, p) => {
          const random = seededRandom(1000 + p);
          const others = servers.filter((_, q) => q !== p);
          for (let b = 0; b < PER_PROCESS / BATCH; b++) {
            const memories = Array.from({ length: BATCH }, (_, i) => ({ content: `${sentence(random)} p${p}b${b}i${i}` }));
            const { stored } = await callOk(server.client, 'remember', { memories });
            stored.forEach((m: { id: string }, i: number) => written.push({ id: m.id, content: memories[i]!.content }));
            const peer = others[b % others.length]!;
            await callOk(peer.client, 'search_memory', { query: memories[0]!.content, limit: 3 });
          }
        }),
      );
      expect(written).toHaveLength(PROCESSES * PER_PROCESS);

      for (const server of servers) {
        const stats = await callOk(server.client, 'memory_stats');
        expect(stats.memories_total).toBe(PROCESSES * PER_PROCESS + 1);
        const missing: string[] = [];
        for (const { id, content } of written) {
          if (!(await findsByKeyword(server, id, content)) || !(await findsByVector(server, id, content))) missing.push(id);
        }
        expect(missing).toEqual([]);
      }
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }

    // Every process has shut down cleanly: the recorded snapshots verify, and no temporary file is left behind.
    const db = new Database(join(temp.dir, 'pinak.db'), { readonly: true });
    const manifests = db.prepare('SELECT * FROM vector_snapshots').all() as SnapshotManifest[];
    db.close();
    expect(manifests.length).toBeGreaterThan(0);
    for (const manifest of manifests) expect(await snapshotProblem(join(temp.dir, 'vectors'), manifest)).toBeNull();
    expect(readdirSync(join(temp.dir, 'vectors')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 240_000);
});
