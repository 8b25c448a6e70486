import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { runCli, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDataDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-e2e-vec-');
  cleanups.push(cleanup);
  return dir;
}

async function start(dataDir: string, args: string[] = []): Promise<Spawned> {
  const server = await spawnServer(dataDir, args);
  cleanups.push(() => server.close());
  return server;
}

const SENTENCES = [
  'The kitten was sleeping on the warm rug by the fireplace',
  'Quarterly revenue grew by ten percent after the product launch',
  'We hiked up the mountain trail and camped beside a lake',
  'The doctor recommended more sleep and less coffee',
  'Our flight to Tokyo was delayed by three hours',
];

describe('vector search over stdio with the bundled model', () => {
  it('loads the bundled model offline and finds paraphrases by meaning', async () => {
    const { client } = await start(tempDataDir());
    const ids = (await callOk(client, 'remember', { memories: SENTENCES.map((content) => ({ content })) })).stored.map((m: { id: string }) => m.id);
    const stats = await callOk(client, 'memory_stats');
    expect(stats.embedding).toMatchObject({ model_id: 'pinak/static-glove-50k', dimension: 100, note: null, records: 5, embedded: 5 });

    // No word in common with the stored sentence: only the vector leg can find it.
    const byMeaning = await callOk(client, 'search_memory', { query: 'a cat napping on a carpet', mode: 'vector', limit: 1 });
    expect(byMeaning.hits[0].id).toBe(ids[0]);
    const hybrid = await callOk(client, 'search_memory', { query: 'airplane departure postponed' });
    expect(hybrid.hits[0].id).toBe(ids[4]);
    expect(hybrid.hits[0].why.keyword_rank).toBeNull();
  });

  it('starts on the bundled model, and says why, when the configured model cannot be loaded', async () => {
    const { client, stderr } = await start(tempDataDir(), ['--embed-model', '/nonexistent/models/mini-lm']);
    const stats = await callOk(client, 'memory_stats');
    expect(stats.embedding.model_id).toBe('pinak/static-glove-50k');
    expect(stats.embedding.note).toMatch(/could not be loaded/);
    expect(stderr()).toContain('falling back to the bundled model');
  });

  it('serves keyword search alone with --embed-model none', async () => {
    const { client } = await start(tempDataDir(), ['--embed-model', 'none']);
    await callOk(client, 'remember', { content: 'plain keyword memory' });
    const result = await callOk(client, 'search_memory', { query: 'keyword memory' });
    expect(result.mode).toBe('keyword');
    expect((await callOk(client, 'memory_stats')).embedding).toMatchObject({ model_id: null, note: expect.stringContaining('disabled') });
  });

  it('loses nothing when killed with SIGKILL between a commit and the next snapshot', async () => {
    const dataDir = tempDataDir();
    const first = await spawnServer(dataDir, ['--snapshot-every-changes', '20']);
    const ids: string[] = [];
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 9 }, (_, i) => ({ content: `${SENTENCES[(round + i) % 5]} (round ${round} item ${i})` }));
      ids.push(...(await callOk(first.client, 'remember', { memories: batch })).stored.map((m: { id: string }) => m.id));
    }
    // Acknowledged writes, some after the last snapshot: now the process dies without warning.
    first.transport.pid && process.kill(first.transport.pid, 'SIGKILL');
    await first.close().catch(() => undefined);

    const second = await start(dataDir);
    const stats = await callOk(second.client, 'memory_stats');
    expect(stats).toMatchObject({ memories_total: 45, embedding: { embedded: 45, vectors_indexed: 45 } });
    const found = new Set<string>();
    for (const sentence of SENTENCES) {
      const { hits } = await callOk(second.client, 'search_memory', { query: sentence, mode: 'vector', limit: 20 });
      for (const hit of hits) found.add(hit.id);
    }
    expect([...found]).toEqual(expect.arrayContaining(ids));
  });

  it('reindex embeds records stored without vectors, and the next start indexes them', async () => {
    const dataDir = tempDataDir();
    const plain = await spawnServer(dataDir, ['--embed-model', 'none']);
    await callOk(plain.client, 'remember', { memories: SENTENCES.map((content) => ({ content })) });
    await plain.close();

    const run = runCli(['reindex', '--data-dir', dataDir]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/embedded 5 record\(s\) with pinak\/static-glove-50k; all records have vectors/);

    const { client } = await start(dataDir);
    expect((await callOk(client, 'memory_stats')).embedding).toMatchObject({ records: 5, embedded: 5, vectors_indexed: 5, index_start: 'snapshot' });
  });
});
