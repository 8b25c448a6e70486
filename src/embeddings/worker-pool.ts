import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../module-worker.js';
import type { FromWorker, ToWorker, WorkerModelOptions } from './embed-protocol.js';

interface Job {
  texts: string[];
  resolve: (vectors: Float32Array[]) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: { id: number; jobs: Job[] } | null;
}

const startWorker = (options: WorkerModelOptions): Worker => startModuleWorker(import.meta.url, 'embed-worker', options);

/**
 * A fixed pool of embedding workers. Requests queue up; an idle worker takes
 * as many queued requests as fit in one batch, so concurrent callers share
 * model invocations. A worker that dies fails its batch and is replaced.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  dimension = 0;

  private constructor(
    private readonly options: WorkerModelOptions,
    private readonly maxBatch: number,
  ) {}

  /** Start `size` workers and wait until each has loaded the model; rejects with the load error. */
  static async start(options: WorkerModelOptions, size: number, maxBatch: number): Promise<WorkerPool> {
    const pool = new WorkerPool(options, maxBatch);
    try {
      for (let i = 0; i < Math.max(1, size); i++) pool.slots.push(await pool.spawn());
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private spawn(): Promise<Slot> {
    const worker = startWorker(this.options);
    worker.unref();
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', reject);
          this.dimension = message.dimension;
          const slot: Slot = { worker, busy: null };
          this.watch(slot);
          resolve(slot);
        } else if (message.type === 'failed') {
          void worker.terminate();
          reject(new Error(message.message));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  private watch(slot: Slot): void {
    slot.worker.on('message', (message: FromWorker) => {
      if ((message.type !== 'result' && message.type !== 'error') || slot.busy?.id !== message.id) return;
      const { jobs } = slot.busy;
      slot.busy = null;
      if (message.type === 'error') {
        for (const job of jobs) job.reject(new Error(message.message));
      } else {
        let offset = 0;
        for (const job of jobs) {
          const vectors = job.texts.map((_, i) => message.values.slice((offset + i) * message.dimension, (offset + i + 1) * message.dimension));
          offset += job.texts.length;
          job.resolve(vectors);
        }
      }
      this.dispatch();
    });
    slot.worker.on('exit', () => {
      const lost = slot.busy?.jobs ?? [];
      slot.busy = null;
      for (const job of lost) job.reject(new Error('the embedding worker stopped'));
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      if (!this.closed) {
        this.spawn().then(
          (fresh) => {
            this.slots.push(fresh);
            this.dispatch();
          },
          () => this.failQueue(new Error('the embedding worker could not be restarted')),
        );
      }
    });
  }

  private failQueue(error: Error): void {
    if (this.slots.length > 0) return;
    for (const job of this.queue.splice(0)) job.reject(error);
  }

  /** Embed texts; each returned vector is the model's pooled, unit-length output. */
  embed(texts: string[]): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new Error('the embedding pool is closed'));
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      // Split large requests so one caller cannot hold a worker for long.
      const chunks: Float32Array[][] = [];
      let remaining = Math.ceil(texts.length / this.maxBatch);
      for (let start = 0, part = 0; start < texts.length; start += this.maxBatch, part++) {
        const index = part;
        this.queue.push({
          texts: texts.slice(start, start + this.maxBatch),
          resolve: (vectors) => {
            chunks[index] = vectors;
            if (--remaining === 0) resolve(chunks.flat());
          },
          reject,
        });
      }
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const jobs: Job[] = [];
      let count = 0;
      while (this.queue.length > 0 && count + this.queue[0]!.texts.length <= this.maxBatch) {
        const job = this.queue.shift()!;
        jobs.push(job);
        count += job.texts.length;
      }
      const id = this.nextId++;
      slot.busy = { id, jobs };
      const message: ToWorker = { type: 'embed', id, texts: jobs.flatMap((job) => job.texts) };
      slot.worker.postMessage(message);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the embedding pool is closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }
}
