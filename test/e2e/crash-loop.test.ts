import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { seededRandom, sentence } from '../helpers/sentences.js';
import { runCli, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** 25 cycles in CI; set PINAK_CRASH_CYCLES=100 (or more) for a longer local run. */
const CYCLES = Number(process.env.PINAK_CRASH_CYCLES ?? 25);
const SEED = Number(process.env.PINAK_CRASH_SEED ?? 4242);

const temp = makeTempDir('pinak-crash-');
afterAll(() => temp.cleanup());

interface Acked {
  id: string;
  content: string;
}

/** Write batches until the process dies; every batch the server answered is recorded as acknowledged. */
async function writeUntilKilled(server: Spawned, random: () => number, acked: Acked[], forgotten: Set<string>, uncertain: Set<string>): Promise<void> {
  for (let batch = 0; ; batch++) {
    const memories = Array.from({ length: 1 + Math.floor(random() * 8) }, () => ({ content: sentence(random) }));
    let stored: Array<{ id: string }>;
    try {
      stored = (await callOk(server.client, 'remember', { memories })).stored;
    } catch {
      return; // killed mid-call: not acknowledged
    }
    stored.forEach((m, i) => acked.push({ id: m.id, content: memories[i]!.content }));
    if (batch % 5 === 4 && acked.length > 3) {
      const victim = acked[Math.floor(random() * acked.length)]!.id;
      try {
        // Forgetting is idempotent: an id an earlier, killed forget had already deleted comes back as missing, deleted by that one.
        const { forgotten: deleted } = await callOk(server.client, 'forget', { ids: [victim] });
        if (deleted.includes(victim)) forgotten.add(victim);
        else uncertain.add(victim);
      } catch {
        // Killed mid-forget: it may or may not have committed.
        uncertain.add(victim);
        return;
      }
    }
  }
}

async function verify(
  server: Spawned,
  acked: readonly Acked[],
  forgotten: ReadonlySet<string>,
  uncertain: ReadonlySet<string>,
  seed: number,
  cycle: number,
): Promise<void> {
  const where = `seed ${seed}, cycle ${cycle}`;
  const alive = acked.filter((m) => !forgotten.has(m.id) && !uncertain.has(m.id));
  const stats = await callOk(server.client, 'memory_stats');
  // Unacknowledged writes may have committed too, so at least the acknowledged ones are there.
  expect(stats.memories_total, where).toBeGreaterThanOrEqual(alive.length);
  // The index is consistent with SQLite: every record embedded and indexed, nothing deleted left in it.
  expect(stats.embedding, where).toMatchObject({ records: stats.memories_total, embedded: stats.memories_total, vectors_indexed: stats.memories_total });
  for (let i = 0; i < alive.length; i += 10) {
    const ids = alive.slice(i, i + 10).map((m) => m.id);
    expect((await callOk(server.client, 'get_memory', { ids })).memories, where).toHaveLength(ids.length);
  }
  // A sample by keyword and by vector search; deleted ones never come back.
  const step = Math.max(1, Math.floor(alive.length / 60));
  for (const memory of alive.filter((_, i) => i % step === 0)) {
    for (const mode of ['keyword', 'vector']) {
      const { hits } = await callOk(server.client, 'search_memory', { query: memory.content, mode, limit: 5 });
      expect(hits.map((h: { id: string }) => h.id), `${where}: ${mode} search for ${memory.id}`).toContain(memory.id);
    }
  }
  for (const id of [...forgotten].slice(-10)) {
    const memory = acked.find((m) => m.id === id)!;
    const { hits } = await callOk(server.client, 'search_memory', { query: memory.content, limit: 20 });
    expect(hits.map((h: { id: string }) => h.id), `${where}: forgotten ${id} came back`).not.toContain(id);
  }
}

describe('crash loop', () => {
  it(`survives ${CYCLES} SIGKILLs at random moments under write load, losing nothing acknowledged`, async () => {
    const random = seededRandom(SEED);
    const acked: Acked[] = [];
    const forgotten = new Set<string>();
    const uncertain = new Set<string>();
    const args = ['--snapshot-every-changes', '40', '--snapshot-interval-ms', '300', '--log-level', 'warn'];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const server = await spawnServer(temp.dir, args);
      if (cycle > 0 && cycle % 5 === 0) await verify(server, acked, forgotten, uncertain, SEED, cycle);
      const writing = writeUntilKilled(server, random, acked, forgotten, uncertain);
      await new Promise((resolve) => setTimeout(resolve, 100 + random() * 500));
      process.kill(server.transport.pid!, 'SIGKILL');
      await writing;
      await server.close().catch(() => undefined);
    }
    const final = await spawnServer(temp.dir, args);
    try {
      expect(acked.length).toBeGreaterThan(CYCLES * 5);
      await verify(final, acked, forgotten, uncertain, SEED, CYCLES);
    } finally {
      await final.close();
    }
    // Every acknowledged call has its audit row.
    const auditFile = join(temp.dir, 'audit.jsonl');
    expect(runCli(['audit', 'export', '--data-dir', temp.dir, '--output', auditFile]).status).toBe(0);
    const rows = readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { tool: string; status: string; ids_touched: string[] });
    const audited = new Set(rows.filter((r) => r.status === 'ok').flatMap((r) => r.ids_touched));
    expect(acked.filter((m) => !audited.has(m.id)).map((m) => m.id), `seed ${SEED}`).toEqual([]);
    process.stderr.write(`crash loop: ${CYCLES} cycles, ${acked.length} acknowledged memories and ${forgotten.size} forgets verified (seed ${SEED})\n`);
    const forgetAudited = new Set(rows.filter((r) => r.tool === 'forget' && r.status === 'ok').flatMap((r) => r.ids_touched));
    expect([...forgotten].filter((id) => !forgetAudited.has(id)), `seed ${SEED}`).toEqual([]);
  }, 600_000);
});
