import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR } from '../../scripts/build-static-model.js';
import { loadStaticWordVectors, type StaticWordVectors } from '../../src/embeddings/static-word-vectors.js';
import { fingerprintOf } from '../../src/embeddings/transformers-embedder.js';
import { seededRandom } from '../helpers/sentences.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The bundled model computed without an ONNX runtime must give exactly the
 * vectors transformers.js gives (the ones stored in existing databases), byte
 * for byte, NaN rows included.
 */
const MODEL_DIR = DEFAULT_OUT_DIR;
const VOCAB = Object.keys((JSON.parse(readFileSync(join(MODEL_DIR, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab);

let extractor: FeatureExtractionPipeline;
let native: StaticWordVectors;

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  extractor = await pipeline('feature-extraction', MODEL_DIR, { dtype: 'fp32' });
  native = loadStaticWordVectors(MODEL_DIR);
});

async function viaTransformers(texts: string[]): Promise<Float32Array> {
  return Float32Array.from((await extractor(texts, { pooling: 'mean', normalize: true })).data as Float32Array);
}

/** Byte-for-byte equality of two batches, naming the first text that differs. */
async function expectSameVectors(texts: string[], batch: number): Promise<void> {
  for (let start = 0; start < texts.length; start += batch) {
    const slice = texts.slice(start, start + batch);
    const expected = await viaTransformers(slice);
    const actual = native.embed(slice);
    expect(actual.length).toBe(expected.length);
    const a = new Uint8Array(actual.buffer);
    const e = new Uint8Array(expected.buffer);
    if (Buffer.compare(a, e) !== 0) {
      const index = actual.findIndex((x, i) => !Object.is(x, expected[i]));
      const text = slice[Math.floor(index / native.dimension)];
      expect.fail(`vectors differ for ${JSON.stringify(text?.slice(0, 80))} at component ${index % native.dimension}: ${actual[index]} vs ${expected[index]}`);
    }
  }
}

/** Text an agent might store: vocabulary words, case, accents, punctuation, digits, unknown words, other scripts. */
function randomText(random: () => number): string {
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const extras = ['Café', 'naïve', 'ÜBER', 'e-mail', "don't", '3.14', '2023-05-08', '#tag', '@you', '🎉', '東京', 'Ελλάδα', 'zzqxv', '(see: notes)', '—', '\t', '\n', '\u0000', '\u200b', 'ﬁne'];
  const words = Array.from({ length: 1 + Math.floor(random() * 40) }, () => {
    const word = random() < 0.15 ? pick(extras) : pick(VOCAB);
    return random() < 0.2 ? word.toUpperCase() : random() < 0.2 ? word[0]!.toUpperCase() + word.slice(1) : word;
  });
  return words.join(pick([' ', ' ', ', ', '. ', '  ', '-']));
}

describe('the bundled static model without an ONNX runtime', () => {
  it('gives every vocabulary word the vector transformers.js gives it', { timeout: 120_000 }, async () => {
    expect(VOCAB).toHaveLength(50_002);
    await expectSameVectors(VOCAB, 1000);
  });

  it('gives generated sentences, in padded batches, the vectors transformers.js gives them', { timeout: 60_000 }, async () => {
    const random = seededRandom(22);
    const texts = Array.from({ length: 3000 }, () => randomText(random));
    await expectSameVectors(texts, 1);
    await expectSameVectors(texts.slice(0, 1000), 37);
  });

  it('matches on texts truncated past 512 tokens, and on texts with nothing it knows (NaN rows)', async () => {
    const texts = [
      'word '.repeat(600),
      `${'garden '.repeat(511)} rocket`, // the word past the limit must not count
      'the and of it is',
      'zzqxv qwvbk',
      '.',
      '\u0000\u0001',
      '',
    ];
    await expectSameVectors(texts, 1);
    await expectSameVectors(texts, texts.length);
    expect([...native.embed(['the and of it is'])].every(Number.isNaN)).toBe(true);
  });

  it('keeps the fingerprint that keys the vectors stored in existing databases', async () => {
    const probes = ['The quick brown fox jumps over the lazy dog.', 'Remember to water the plants on Monday.', 'Memory systems store and retrieve facts.'];
    const flat = native.embed(probes);
    const vectors = probes.map((_, i) => flat.slice(i * 100, (i + 1) * 100));
    const expected = await viaTransformers(probes);
    expect(fingerprintOf(vectors)).toBe(fingerprintOf(probes.map((_, i) => expected.slice(i * 100, (i + 1) * 100))));
  });

  it('refuses a damaged model file with a clear error', () => {
    const { dir, cleanup } = makeTempDir('pinak-static-');
    try {
      mkdirSync(join(dir, 'onnx'));
      for (const name of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(MODEL_DIR, name), join(dir, name));
      const model = readFileSync(join(MODEL_DIR, 'onnx', 'model.onnx'));
      writeFileSync(join(dir, 'onnx', 'model.onnx'), model.subarray(0, model.length - 1000));
      expect(() => loadStaticWordVectors(dir)).toThrow(/truncated/);
      writeFileSync(join(dir, 'onnx', 'model.onnx'), readFileSync(join(MODEL_DIR, 'config.json')));
      expect(() => loadStaticWordVectors(dir)).toThrow(/static model|ONNX|protobuf|truncated/);
    } finally {
      cleanup();
    }
  });
});
