import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR } from '../../scripts/build-static-model.js';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';

/**
 * The bundled model runs without an ONNX runtime; the same files given as a
 * model directory run through transformers.js. Both, in worker threads, must
 * give the same vectors and the same model fingerprint.
 */
let bundled: TransformersEmbedder;
let viaTransformers: TransformersEmbedder;

beforeAll(async () => {
  const settings = { allowRemoteModels: false, dtype: 'fp32' };
  const staticChoice = resolveModel({ name: 'bundled', ...settings });
  const directoryChoice = resolveModel({ name: DEFAULT_OUT_DIR, ...settings });
  expect([staticChoice.options.engine, directoryChoice.options.engine]).toEqual(['static', 'transformers']);
  bundled = await TransformersEmbedder.start({ ...staticChoice.options, id: staticChoice.id, workers: 1, maxBatch: 16 });
  viaTransformers = await TransformersEmbedder.start({ ...directoryChoice.options, id: directoryChoice.id, workers: 1, maxBatch: 16 });
});
afterAll(async () => {
  await bundled?.close();
  await viaTransformers?.close();
});

describe('the bundled model without an ONNX runtime, against transformers.js', () => {
  it('keeps the model key that vectors in existing databases carry', () => {
    // Written with every vector by earlier versions, which ran this model through transformers.js:
    // a different key would re-embed every store and ignore its vector index.
    expect(bundled.model.key).toBe('pinak/static-glove-50k@100#0efd138467344528');
    expect(viaTransformers.model.fingerprint).toBe(bundled.model.fingerprint);
  });

  it('gives the same vectors as transformers.js, and null where the model knows nothing', async () => {
    const texts = ['gardening in spring', 'The deployment failed: the migration timed out after 30 s.', 'the of and to', '', 'Crème brûlée at the café'];
    const [mine, theirs] = await Promise.all([bundled.embed(texts), viaTransformers.embed(texts)]);
    expect(mine).toEqual(theirs);
    expect(mine.map((vector) => vector === null)).toEqual([false, false, true, true, false]);
  });
});
