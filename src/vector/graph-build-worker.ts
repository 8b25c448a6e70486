/**
 * A worker thread that builds an HNSW graph (from nothing, or from the last
 * snapshot) with vectors the serving thread sends in chunks, and writes it as a verified snapshot file (the same safe
 * write as any snapshot). The serving thread keeps answering meanwhile and
 * takes the file over when it is done: inserting a million vectors takes
 * minutes of CPU that would otherwise stall every call in between.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromGraphBuilder, GraphBuildJob, ToGraphBuilder } from './graph-build-protocol.js';
import { HnswGraph } from './hnsw-graph.js';
import { writeSnapshot } from './snapshot-files.js';

const job = workerData as GraphBuildJob;
const port = parentPort!;
const send = (message: FromGraphBuilder): void => port.postMessage(message);
const graph = job.base
  ? await HnswGraph.load(`${job.dir}/${job.base.file}`, job.settings, job.base.count)
  : HnswGraph.create(job.settings, job.capacity + 1024);
let built = 0;

port.on('message', (message: ToGraphBuilder) => {
  try {
    if (message.type === 'vectors') {
      const { dimension } = job.settings;
      for (let i = 0; i < message.docIds.length; i++) {
        graph.upsert(message.docIds[i]!, message.vectors.subarray(i * dimension, (i + 1) * dimension));
      }
      // The sender keeps a bounded number of chunks ahead of this count.
      built += message.docIds.length;
      send({ type: 'progress', built });
      return;
    }
    if (message.type === 'deletes') {
      for (const docId of message.docIds) graph.remove(docId);
      return;
    }
    writeSnapshot(graph, job.dir, job.modelKey, job.seq).then(
      (manifest) => {
        // The serving thread loads the file next: free this copy first rather than at the worker's exit.
        graph.release();
        send({ type: 'done', manifest });
      },
      (error: unknown) => send({ type: 'failed', message: (error as Error).message }),
    );
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
  }
});
