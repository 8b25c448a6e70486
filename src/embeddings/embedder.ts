/** Which model produced a vector. `key` ties stored vectors to it: model id, dimension and behaviour fingerprint. */
export interface EmbeddingModel {
  readonly id: string;
  readonly dimension: number;
  /** SHA-256 prefix of the model's vectors for fixed probe sentences: changes whenever its output does. */
  readonly fingerprint: string;
  readonly key: string;
}

/**
 * Turns texts into unit-length vectors. A text with nothing the model knows
 * (only stopwords, symbols or unknown words) has no vector: null.
 */
export interface Embedder {
  readonly model: EmbeddingModel;
  embed(texts: readonly string[]): Promise<Array<Float32Array | null>>;
  /** Why embedding fails now (an embedding service that does not answer), or null while it works. */
  status?(): string | null;
  close(): Promise<void>;
}

/** The key stored with every vector of a model. */
export const modelKey = (id: string, dimension: number, fingerprint: string): string => `${id}@${dimension}#${fingerprint}`;

/** Make a vector unit length; null for an all-zero or non-finite one. */
export function normalized(values: Float32Array): Float32Array | null {
  let sum = 0;
  for (const v of values) sum += v * v;
  if (!Number.isFinite(sum) || sum < 1e-12) return null;
  const scale = 1 / Math.sqrt(sum);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * scale;
  return out;
}
