import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';
import { SAME_BY_MEANING, SAME_BY_WORDS, sameLesson, WORDS_WITH_MEANING, wordOverlap } from '../../src/memory/lesson-merge.js';

/** The same advice in other words: to be merged. */
const SAME: Array<[string, string]> = [
  ['Stream large CSV exports instead of building them in memory.', 'Stream large CSV exports rather than building them in memory.'],
  ['Freeze invoice writes before copying the billing database.', 'Before copying the billing database, freeze invoice writes.'],
  ['Check that the backups restore before any migration.', 'Before a migration, check the backups restore.'],
  ['Run the schema migration in small batches.', 'Run schema migrations in smaller batches.'],
  ['Use logical replication to move the billing database.', 'Move the billing database with logical replication.'],
  ['Pin the Node version in CI.', 'Pin the Node version used by CI.'],
  ['Warm the cache before switching traffic.', 'Warm up the cache before traffic is switched.'],
  ['Test the rate limiter with real traffic first.', 'Test the rate limiter first with real traffic.'],
  ['Keep a rollback script ready for every deploy.', 'For every deploy keep a rollback script ready.'],
  ['Never deploy on Fridays.', 'Do not deploy on Fridays.'],
  ['Stream big exports to the client.', 'Send large exports to the client as a stream.'],
];

/** Related advice on the same subject: to be kept apart. */
const DIFFERENT: Array<[string, string]> = [
  ['Stream large CSV exports instead of building them in memory.', 'Compress large CSV exports before upload.'],
  ['Freeze invoice writes before copying the billing database.', 'Check the billing database backups before copying.'],
  ['Run the schema migration in small batches.', 'Run the schema migration during the night.'],
  ['Use logical replication to move the billing database.', 'Use pg_dump to move the small databases.'],
  ['Pin the Node version in CI.', 'Cache node_modules in CI.'],
  ['Warm the cache before switching traffic.', 'Switch traffic gradually, 10% at a time.'],
  ['Test the rate limiter with real traffic first.', 'Log every request the rate limiter refuses.'],
  ['Keep a rollback script ready for every deploy.', 'Write a deploy checklist for every release.'],
];

/** Advice and its opposite: share most words and meaning, never merged. */
const OPPOSITE: Array<[string, string]> = [
  ['Deploy on Fridays.', 'Never deploy on Fridays.'],
  ['Retry the export job on timeouts.', 'Do not retry the export job on timeouts.'],
];

let embedder: TransformersEmbedder;
beforeAll(async () => {
  const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
  embedder = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 1, maxBatch: 16 });
});
afterAll(async () => {
  await embedder?.close();
});

async function cosine(a: string, b: string): Promise<number> {
  const [x, y] = await embedder.embed([a, b]);
  return x!.reduce((sum, v, i) => sum + v * y![i]!, 0);
}

describe('lessons that say the same thing (the labelled set the thresholds were chosen on)', () => {
  it('by words alone, rewordings sharing most words are the same lesson and different lessons never are', () => {
    const different = DIFFERENT.map(([a, b]) => wordOverlap(a, b));
    expect(Math.max(...different)).toBeLessThan(SAME_BY_WORDS);
    for (const [a, b] of SAME.slice(0, 10)) expect(sameLesson(a, b, null), `${a} | ${b}`).toBe(true);
    for (const [a, b] of [...DIFFERENT, ...OPPOSITE]) expect(sameLesson(a, b, null), `${a} | ${b}`).toBe(false);
  });

  it('with the bundled model\'s cosine, every rewording is the same lesson, and no different or opposite lesson is', async () => {
    for (const [a, b] of SAME) expect(sameLesson(a, b, await cosine(a, b)), `${a} | ${b}`).toBe(true);
    for (const [a, b] of [...DIFFERENT, ...OPPOSITE]) expect(sameLesson(a, b, await cosine(a, b)), `${a} | ${b}`).toBe(false);
    // The margins: different lessons that share enough words to be judged by meaning are far from it.
    for (const [a, b] of DIFFERENT) if (wordOverlap(a, b) >= WORDS_WITH_MEANING) expect(await cosine(a, b)).toBeLessThan(SAME_BY_MEANING - 0.1);
  });
});
