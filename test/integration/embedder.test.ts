import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';

let embedder: TransformersEmbedder;
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

beforeAll(async () => {
  const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
  embedder = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 2, maxBatch: 16 });
});
afterAll(async () => {
  await embedder?.close();
});

describe('TransformersEmbedder on the bundled model, in worker threads', () => {
  it('identifies the model by id, dimension and a behaviour fingerprint', () => {
    expect(embedder.model).toMatchObject({ id: 'pinak/static-glove-50k', dimension: 100 });
    expect(embedder.model.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(embedder.model.key).toBe(`pinak/static-glove-50k@100#${embedder.model.fingerprint}`);
  });

  it('returns unit vectors, and null for text with nothing the model knows', async () => {
    const [known, stopwords, empty, symbols] = await embedder.embed(['gardening in spring', 'the of and to', '', '!!! ???']);
    expect(Math.hypot(...known!)).toBeCloseTo(1, 5);
    expect([stopwords, empty, symbols]).toEqual([null, null, null]);
  });

  it('answers many concurrent callers, batching them, with the same vectors as one by one', async () => {
    const texts = Array.from({ length: 120 }, (_, i) => `note ${i}: ${['rivers and lakes', 'invoices and taxes', 'cats and dogs'][i % 3]}`);
    const one = await Promise.all(texts.slice(0, 6).map((text) => embedder.embed([text])));
    const all = await Promise.all(texts.map((text) => embedder.embed([text])));
    expect(all).toHaveLength(120);
    for (let i = 0; i < 6; i++) {
      expect(dot(all[i]![0]!, one[i]![0]!)).toBeCloseTo(1, 5);
    }
    const [lakes, taxes] = [all[0]![0]!, all[1]![0]!];
    expect(dot(lakes, all[3]![0]!)).toBeGreaterThan(dot(lakes, taxes));
  });

  it('splits a large request across batches and keeps the order', async () => {
    const texts = Array.from({ length: 50 }, (_, i) => (i % 2 ? 'mountain hiking trail' : 'quarterly revenue report'));
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(50);
    expect(dot(vectors[0]!, vectors[2]!)).toBeCloseTo(1, 5);
    expect(dot(vectors[1]!, vectors[3]!)).toBeCloseTo(1, 5);
    expect(dot(vectors[0]!, vectors[1]!)).toBeLessThan(0.9);
  });
});
