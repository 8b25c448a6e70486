import type { WorkerModelOptions } from './embed-protocol.js';

/** Texts in, one flat Float32Array of pooled, unit-length vectors out. */
export type Extract = (texts: string[]) => Promise<Float32Array>;

/** Said when a model needs @huggingface/transformers and it is not installed (it is an optional peer dependency). */
export const TRANSFORMERS_MISSING =
  'models other than the bundled one need the @huggingface/transformers package, which is not installed: ' +
  'install it next to pinak-memory (npm install -g @huggingface/transformers, or npx -p pinak-memory -p @huggingface/transformers pinak-memory)';

async function importTransformers(): Promise<typeof import('@huggingface/transformers')> {
  try {
    return await import('@huggingface/transformers');
  } catch (error) {
    // Only the package itself missing; a broken install of it keeps its own message.
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ERR_MODULE_NOT_FOUND' && message.includes("'@huggingface/transformers'")) throw new Error(TRANSFORMERS_MISSING);
    throw error;
  }
}

/** Load a transformers.js feature-extraction pipeline: mean pooling, unit length. */
export async function loadTransformersExtractor(options: WorkerModelOptions): Promise<Extract> {
  const { env, pipeline } = await importTransformers();
  env.allowRemoteModels = options.allowRemoteModels;
  env.allowLocalModels = true;
  if (options.localModelPath !== null) env.localModelPath = options.localModelPath;
  if (options.cacheDir !== null) env.cacheDir = options.cacheDir;
  const extractor = await pipeline('feature-extraction', options.model, { dtype: options.dtype as 'fp32' });
  return async (texts) => Float32Array.from((await extractor(texts, { pooling: 'mean', normalize: true })).data as Float32Array);
}
