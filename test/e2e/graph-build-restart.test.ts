import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { seededRandom, sentence } from '../helpers/sentences.js';
import { runCli, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The vector graph of a large backlog is built by a worker thread of the
// server. Killing the server while it builds (the worker dies with it) loses
// nothing: the next start builds again from SQLite and serves every memory.

const temp = makeTempDir('pinak-graph-build-');
afterAll(() => temp.cleanup());

const COUNT = 8000;
const random = seededRandom(2027);
// Distinct words the bundled model knows: distinct vectors, each found by its own text.
const facts = Array.from({ length: COUNT }, () => sentence(random, 8));

async function waitFor(server: Spawned, line: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!server.stderr().includes(line)) {
    if (Date.now() > until) throw new Error(`no "${line}" within ${timeoutMs} ms; the server wrote: ${server.stderr().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a server killed while it builds its vector graph', () => {
  it('loses nothing, and the next start builds the graph again', async () => {
    const dir = join(temp.dir, 'data');
    const file = join(temp.dir, 'facts.jsonl');
    writeFileSync(file, facts.map((content) => `${JSON.stringify({ content })}\n`).join(''));
    const imported = runCli(['import', file, '--data-dir', dir, '--graph-build-above', '0']);
    expect(imported.status, imported.stderr).toBe(0);
    // The import indexed as it went and left a snapshot; without it, the server must build the whole graph from SQLite.
    rmSync(join(dir, 'vectors'), { recursive: true, force: true });

    const first = await spawnServer(dir, ['--graph-build-above', '1000']);
    await waitFor(first, 'building the vector graph off the serving thread', 60_000);
    expect(first.stderr()).not.toContain('vector graph built off the serving thread');
    first.transport.pid && process.kill(first.transport.pid, 'SIGKILL');
    await first.close().catch(() => {});

    const second = await spawnServer(dir, ['--graph-build-above', '1000']);
    try {
      await waitFor(second, 'vector graph built off the serving thread', 120_000);
      const stats = await callOk(second.client, 'memory_stats');
      expect(stats.memories_total).toBe(COUNT);
      const embedding = stats.embedding as { embedded: number; vectors_indexed: number; index_backlog: number };
      expect(embedding).toMatchObject({ embedded: COUNT, vectors_indexed: COUNT, index_backlog: 0 });
      // Every fact sampled is found by its meaning alone, from the built graph.
      for (const i of [0, 777, 2500, 4096, 6001, COUNT - 1]) {
        const { hits } = await callOk(second.client, 'search_memory', { query: facts[i], mode: 'vector', limit: 3 });
        expect(hits.map((h: { snippet: string }) => h.snippet), `fact ${i}`).toContain(facts[i]);
      }
    } finally {
      await second.close();
    }
  }, 240_000);
});
