import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { seededRandom, sentence } from '../helpers/sentences.js';
import { runCli, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-damage-');
afterAll(() => temp.cleanup());

const base = join(temp.dir, 'base');
const other = join(temp.dir, 'other');
const memories: Array<{ id: string; content: string }> = [];
let modelKey = '';

/** Fill a data directory and shut the server down cleanly, so a snapshot is on disk. */
async function seed(dir: string, seedValue: number, count: number): Promise<Array<{ id: string; content: string }>> {
  const random = seededRandom(seedValue);
  const server = await spawnServer(dir);
  const batch = Array.from({ length: count }, () => ({ content: sentence(random) }));
  const stored = (await callOk(server.client, 'remember', { memories: batch })).stored as Array<{ id: string }>;
  modelKey = (await callOk(server.client, 'memory_stats')).embedding.model_key;
  await server.close();
  return stored.map((m, i) => ({ id: m.id, content: batch[i]!.content }));
}

beforeAll(async () => {
  memories.push(...(await seed(base, 7, 60)));
  await seed(other, 8, 40);
}, 60_000);

function copyOfBase(name: string): string {
  const dir = join(temp.dir, name);
  cpSync(base, dir, { recursive: true });
  return dir;
}

const snapshotIn = (dir: string): string => {
  const name = readdirSync(join(dir, 'vectors')).find((f) => f.endsWith('.hnsw'));
  if (!name) throw new Error(`no snapshot in ${dir}`);
  return join(dir, 'vectors', name);
};

/** Everything seeded is still there and found by keyword and by vector search. */
async function expectIntact(server: Spawned): Promise<void> {
  expect((await callOk(server.client, 'memory_stats')).memories_total).toBe(memories.length);
  for (const memory of memories.filter((_, i) => i % 6 === 0)) {
    for (const mode of ['keyword', 'vector']) {
      const { hits } = await callOk(server.client, 'search_memory', { query: memory.content, mode, limit: 5 });
      expect(hits.map((h: { id: string }) => h.id), `${mode}: ${memory.content}`).toContain(memory.id);
    }
  }
}

const snapshotDamage: Array<[string, (dir: string) => void]> = [
  ['deleted', (dir) => rmSync(snapshotIn(dir))],
  ['truncated', (dir) => truncateSync(snapshotIn(dir), Math.floor(readFileSync(snapshotIn(dir)).length * 0.6))],
  ['zero-length', (dir) => truncateSync(snapshotIn(dir), 0)],
  ['bit-flipped', (dir) => {
    const file = snapshotIn(dir);
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x10;
    writeFileSync(file, bytes);
  }],
  ["another index's file", (dir) => cpSync(snapshotIn(other), snapshotIn(dir))],
  ['recorded for another model', (dir) => {
    const db = new Database(join(dir, 'pinak.db'));
    db.prepare("UPDATE vector_snapshots SET model_key = 'someone-else@100#0'").run();
    db.close();
  }],
  ['ahead of the database (restored from an older backup)', (dir) => {
    const db = new Database(join(dir, 'pinak.db'));
    db.prepare('UPDATE vector_snapshots SET seq = seq + 1000').run();
    db.close();
  }],
];

describe('a damaged or odd data directory', () => {
  for (const [damage, apply] of snapshotDamage) {
    it(`starts, rebuilds from SQLite and loses nothing when the snapshot is ${damage}`, async () => {
      const dir = copyOfBase(`snap-${damage.replace(/\W+/g, '-')}`);
      apply(dir);
      const server = await spawnServer(dir);
      try {
        expect((await callOk(server.client, 'memory_stats')).embedding.index_start).toBe('rebuild');
        await expectIntact(server);
      } finally {
        await server.close();
      }
    });
  }

  it('takes over a snapshot lease left by a killed process, and one that expired', async () => {
    for (const holder of [`${hostname()}:999999:gone`, 'another-host:1:x']) {
      const dir = copyOfBase(`lease-${holder.split(':')[0]}`);
      const db = new Database(join(dir, 'pinak.db'));
      const expires = holder.startsWith('another') ? Date.now() - 1000 : Date.now() + 3_600_000;
      db.prepare('INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)').run(`snapshot:${modelKey}`, holder, expires);
      const before = (db.prepare('SELECT seq FROM vector_snapshots').get() as { seq: number }).seq;
      db.close();
      const server = await spawnServer(dir, ['--snapshot-every-changes', '5']);
      await callOk(server.client, 'remember', { memories: Array.from({ length: 10 }, (_, i) => ({ content: `lease test ${i} harbor lantern` })) });
      await server.close();
      const after = new Database(join(dir, 'pinak.db'), { readonly: true });
      expect((after.prepare('SELECT seq FROM vector_snapshots').get() as { seq: number }).seq, holder).toBeGreaterThan(before);
      after.close();
    }
  });

  it('creates a missing data directory', async () => {
    const dir = join(temp.dir, 'not', 'there', 'yet');
    const server = await spawnServer(dir);
    await callOk(server.client, 'remember', { content: 'first memory in a new place' });
    await server.close();
    expect(readdirSync(dir)).toContain('pinak.db');
  });

  it('refuses to start, in one line, on a read-only data directory, and leaves the data alone', async (ctx) => {
    const dir = copyOfBase('read-only');
    const mountPoint = join(temp.dir, 'read-only-mount');
    mkdirSync(mountPoint);
    try {
      execFileSync('mount', ['--bind', dir, mountPoint], { stdio: 'ignore' });
      execFileSync('mount', ['-o', 'remount,ro,bind', mountPoint], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // needs permission to make a read-only bind mount
    }
    try {
      const run = runCli(['--data-dir', mountPoint], {}, '');
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/data directory .* is not writable \(EROFS\)/);
    } finally {
      execFileSync('umount', [mountPoint], { stdio: 'ignore' });
    }
    const server = await spawnServer(dir);
    await expectIntact(server);
    await server.close();
  });

  it('answers "full" when the database reaches its size limit, keeps serving reads, and keeps what it acknowledged', async () => {
    const dir = join(temp.dir, 'full');
    const args = ['--max-database-bytes', String(2 * 1024 * 1024)];
    const server = await spawnServer(dir, args);
    const big = 'lorem ipsum dolor sit amet '.repeat(1100);
    const stored: string[] = [];
    let refusal = '';
    for (let i = 0; i < 200 && !refusal; i++) {
      const result = await server.client.callTool({ name: 'remember', arguments: { content: `${i} ${big}` } });
      if (result.isError) refusal = (result.content as Array<{ text: string }>)[0]!.text;
      else stored.push((result.structuredContent as { stored: Array<{ id: string }> }).stored[0]!.id);
    }
    expect(refusal).toMatch(/database is full/);
    expect(stored.length).toBeGreaterThan(5);
    expect((await callOk(server.client, 'get_memory', { ids: stored.slice(-3) })).memories).toHaveLength(3);
    expect(await callError(server.client, 'remember', { content: big })).toMatch(/full/);
    await server.close();
    const again = await spawnServer(dir, args);
    expect((await callOk(again.client, 'memory_stats')).memories_total).toBe(stored.length);
    await again.close();
  });
});
