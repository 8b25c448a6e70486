/**
 * Worker thread entry: loads a transformers.js feature-extraction pipeline
 * once, then embeds batches of texts (mean pooling, unit length) off the main
 * event loop. Results go back as one flat Float32Array per batch, transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { env, pipeline } from '@huggingface/transformers';
import type { FromWorker, ToWorker, WorkerModelOptions } from './embed-protocol.js';

const options = workerData as WorkerModelOptions;
const port = parentPort!;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function load() {
  env.allowRemoteModels = options.allowRemoteModels;
  env.allowLocalModels = true;
  if (options.localModelPath !== null) env.localModelPath = options.localModelPath;
  if (options.cacheDir !== null) env.cacheDir = options.cacheDir;
  return pipeline('feature-extraction', options.model, { dtype: options.dtype as 'fp32' });
}

try {
  const extractor = await load();
  const probe = await extractor(['dimension probe'], { pooling: 'mean', normalize: true });
  const dimension = Number(probe.dims.at(-1));
  port.on('message', async (message: ToWorker) => {
    try {
      const output = await extractor(message.texts, { pooling: 'mean', normalize: true });
      const values = Float32Array.from(output.data as Float32Array);
      post({ type: 'result', id: message.id, dimension, values }, [values.buffer as ArrayBuffer]);
    } catch (error) {
      post({ type: 'error', id: message.id, message: (error as Error).message });
    }
  });
  post({ type: 'ready', dimension });
} catch (error) {
  post({ type: 'failed', message: (error as Error).message });
}
