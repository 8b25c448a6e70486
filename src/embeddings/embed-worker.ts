/**
 * Worker thread entry: loads the model once (the bundled static model
 * directly, any other through transformers.js), then embeds batches of texts
 * (mean pooling, unit length) off the main event loop. Results go back as one
 * flat Float32Array per batch, transferred.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerModelOptions } from './embed-protocol.js';
import { loadStaticWordVectors } from './static-word-vectors.js';
import { loadTransformersExtractor, type Extract } from './transformers-extractor.js';

const options = workerData as WorkerModelOptions;
const port = parentPort!;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function load(): Promise<Extract> {
  if (options.engine === 'transformers') return loadTransformersExtractor(options);
  const model = loadStaticWordVectors(join(options.localModelPath ?? '', options.model));
  return async (texts) => model.embed(texts);
}

try {
  const extract = await load();
  const probe = await extract(['dimension probe']);
  const dimension = probe.length;
  port.on('message', async (message: ToWorker) => {
    try {
      const values = await extract(message.texts);
      post({ type: 'result', id: message.id, dimension, values }, [values.buffer as ArrayBuffer]);
    } catch (error) {
      post({ type: 'error', id: message.id, message: (error as Error).message });
    }
  });
  post({ type: 'ready', dimension });
} catch (error) {
  post({ type: 'failed', message: (error as Error).message });
}
