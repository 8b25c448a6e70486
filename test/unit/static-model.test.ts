import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelFiles, DEFAULT_OUT_DIR, MODEL_MAX_LENGTH } from '../../scripts/build-static-model.js';

/**
 * The bundled static word-vector model (models/static-glove-50k, built by
 * `npm run build:model`), loaded through the real transformers.js path, offline.
 */
const MODEL_DIR = DEFAULT_OUT_DIR;

let extractor: FeatureExtractionPipeline;

async function embed(texts: string[]): Promise<number[][]> {
  const output = await extractor(texts, { pooling: 'mean', normalize: true });
  return output.tolist() as number[][];
}

const cosine = (a: number[], b: number[]): number => a.reduce((sum, x, i) => sum + x * (b[i] ?? Number.NaN), 0);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(dir, name)).isFile())
    .map((name) => relative(dir, join(dir, name)).split('\\').join('/'))
    .sort();
}

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  // The model is given by absolute path: not a valid hub id, so it is read from there
  // directly; no file-system cache, so no stale cached copy can shadow it.
  env.useFSCache = false;
  extractor = await pipeline('feature-extraction', MODEL_DIR, { dtype: 'fp32' });
});

describe('static-glove-50k through transformers.js', () => {
  it('feeds the session input_ids only and yields 100-d unit vectors', async () => {
    const session = (extractor.model as unknown as { sessions: Record<string, { inputNames: string[]; outputNames: string[] }> }).sessions.model;
    expect(session?.inputNames).toEqual(['input_ids']);
    expect(session?.outputNames).toEqual(['last_hidden_state']);
    const [vector] = await embed(['Durable memory for agents keeps notes across sessions.']);
    expect(vector).toHaveLength(100);
    expect(Math.hypot(...(vector ?? []))).toBeCloseTo(1, 5);
  });

  it('tokenizes words with [UNK] = 1, pads with [PAD] = 0, adds no special tokens, truncates at 512', () => {
    const tokenizer = extractor.tokenizer;
    const { input_ids, attention_mask } = tokenizer(['The Café', 'zzqxv cat, dog'], { padding: true, truncation: true });
    const ids = input_ids.tolist() as bigint[][];
    expect(ids[1]?.[0]).toBe(1n); // unknown word
    expect(ids[0]?.slice(2)).toEqual([0n, 0n]); // right padding with [PAD]
    expect(attention_mask.tolist()).toEqual([[1n, 1n, 0n, 0n], [1n, 1n, 1n, 1n]]);
    expect(tokenizer.tokenize('The Café, well-known!')).toEqual(['the', 'cafe', ',', 'well', '-', 'known', '!']);
    const long = tokenizer(['word '.repeat(600)], { padding: true, truncation: true });
    expect(long.input_ids.dims).toEqual([1, MODEL_MAX_LENGTH]);
  });

  it('ranks a paraphrase above an unrelated sentence', async () => {
    const [cat, kitten, revenue] = await embed(['the cat sat on the mat', 'a kitten was sitting on the rug', 'quarterly revenue grew by ten percent']);
    expect(cosine(cat!, kitten!)).toBeGreaterThan(cosine(cat!, revenue!) + 0.3);
  });

  it('gives the same vectors in a padded batch as one by one', async () => {
    const texts = [
      'short note',
      'the deployment to production failed because the database migration timed out after thirty seconds',
      'the and of it is', // all stopwords: NaN row, must not disturb the others
      'a medium length sentence about gardening and tomatoes',
    ];
    const batched = await embed(texts);
    for (const [i, text] of texts.entries()) {
      const [single] = await embed([text]);
      expect(batched[i]).toEqual(single); // exact, NaN included
    }
  });

  it('returns NaN for a text of only stopwords, unknown words or nothing (zero mean vector, normalised)', async () => {
    const texts = ['The and of it is.', 'zzqxv qwvbk', 'to be or not to be', ''];
    for (const vector of await embed(texts)) {
      expect(vector).toHaveLength(100);
      expect(vector.every((x) => Number.isNaN(x))).toBe(true);
    }
    // Before pooling, the token vectors are exactly zero.
    const raw = await extractor(['the and of it is'], { pooling: 'none' });
    expect((raw.tolist() as number[][][])[0]?.flat().every((x) => x === 0)).toBe(true);
  });
});

describe('models/static-glove-50k files', () => {
  it('match their SHA256SUMS', () => {
    const sums = readFileSync(join(MODEL_DIR, 'SHA256SUMS'), 'utf8').trim().split('\n');
    const listed = sums.map((line) => {
      const [hash, name] = line.split(/\s+/);
      const data = readFileSync(join(MODEL_DIR, name ?? ''));
      expect(createHash('sha256').update(data).digest('hex'), `${name} differs from SHA256SUMS`).toBe(hash);
      return name;
    });
    expect([...listed, 'SHA256SUMS'].sort()).toEqual(listFiles(MODEL_DIR));
  });

  it('are exactly what scripts/build-static-model.ts produces', { timeout: 90_000 }, () => {
    const expected = buildModelFiles();
    expect(listFiles(MODEL_DIR)).toEqual([...expected.keys()].sort());
    for (const [name, data] of expected) {
      const onDisk = readFileSync(join(MODEL_DIR, name));
      expect(Buffer.compare(onDisk, data), `${name} is stale: run npm run build:model`).toBe(0);
    }
  });
});
