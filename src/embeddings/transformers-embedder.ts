import { createHash } from 'node:crypto';
import type { WorkerModelOptions } from './embed-protocol.js';
import { modelKey, normalized, type Embedder, type EmbeddingModel } from './embedder.js';
import { WorkerPool } from './worker-pool.js';

/** Fixed sentences whose vectors identify a model's behaviour. */
export const PROBES = ['The quick brown fox jumps over the lazy dog.', 'Remember to water the plants on Monday.', 'Memory systems store and retrieve facts.'];

export interface TransformersEmbedderOptions extends WorkerModelOptions {
  /** The id recorded with vectors (the configured model name, not a machine path). */
  id: string;
  workers: number;
  maxBatch: number;
}

/** SHA-256 prefix of the probe vectors rounded to 4 decimals: same model behaviour, same fingerprint. */
export function fingerprintOf(vectors: readonly Float32Array[]): string {
  const hash = createHash('sha256');
  for (const vector of vectors) hash.update(Array.from(vector, (v) => v.toFixed(4)).join(','));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The embedder: feature extraction (mean pooling, normalised) in a pool of
 * worker threads, so the event loop never blocks on inference; through
 * @huggingface/transformers, or for the bundled static model the same
 * computation without an ONNX runtime (see static-word-vectors.ts).
 */
export class TransformersEmbedder implements Embedder {
  private constructor(
    readonly model: EmbeddingModel,
    private readonly pool: WorkerPool,
  ) {}

  /** Start the workers, load the model, and fingerprint it. Rejects if the model cannot be loaded. */
  static async start(options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
    const pool = await WorkerPool.start(options, options.workers, options.maxBatch);
    try {
      const fingerprint = fingerprintOf(await pool.embed(PROBES));
      const model = { id: options.id, dimension: pool.dimension, fingerprint, key: modelKey(options.id, pool.dimension, fingerprint) };
      return new TransformersEmbedder(model, pool);
    } catch (error) {
      await pool.close();
      throw error;
    }
  }

  async embed(texts: readonly string[]): Promise<Array<Float32Array | null>> {
    // Empty texts never reach the model; zero vectors (nothing the model knows) come back as null.
    const vectors = await this.pool.embed(texts.map((text) => (text.trim() === '' ? '.' : text)));
    return vectors.map((vector, i) => (texts[i]!.trim() === '' ? null : normalized(vector)));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
