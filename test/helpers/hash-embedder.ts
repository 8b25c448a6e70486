import { modelKey, normalized, type Embedder } from '../../src/embeddings/embedder.js';
import { queryTerms } from '../../src/memory/query-terms.js';

/**
 * A deterministic stand-in embedder for integration tests: each content word
 * hashes to a few dimensions, so texts sharing words are close and the rest
 * are not. Fast, no worker, no model files.
 */
export class HashEmbedder implements Embedder {
  readonly model;
  calls = 0;

  constructor(readonly dimension = 64, id = 'test/hash-embedder') {
    this.model = { id, dimension, fingerprint: `hash${dimension}`, key: modelKey(id, dimension, `hash${dimension}`) };
  }

  async embed(texts: readonly string[]): Promise<Array<Float32Array | null>> {
    this.calls += 1;
    return texts.map((text) => {
      const vector = new Float32Array(this.dimension);
      for (const word of queryTerms(text)) {
        let h = 2166136261;
        for (const ch of word) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
        vector[h % this.dimension]! += 1;
        vector[(h >>> 8) % this.dimension]! += 0.5;
      }
      return normalized(vector);
    });
  }

  async close(): Promise<void> {}
}
