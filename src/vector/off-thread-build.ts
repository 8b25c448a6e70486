import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import type { SnapshotManifest } from '../domain/vector-log.js';
import { startModuleWorker } from '../module-worker.js';
import type { FromGraphBuilder, GraphBuildJob, ToGraphBuilder } from './graph-build-protocol.js';
import { HnswGraph, type GraphSettings } from './hnsw-graph.js';
import { snapshotProblem } from './snapshot-files.js';
import type { VectorSlab } from './vector-slab.js';

/** Vectors sent to the builder per message: about 4 MB at 100 dimensions, copied between two yields. */
const CHUNK = 10_000;
/**
 * Chunks sent ahead of what the builder has inserted. Inserting a chunk takes
 * seconds and copying it milliseconds: without a bound, every vector of a
 * large build (400 MB at a million) would wait in the worker's queue at once.
 */
const CHUNKS_AHEAD = 2;

/** What one build starts from and takes in. */
export interface BuildPlan {
  settings: GraphSettings;
  dir: string;
  modelKey: string;
  /** The change-log position the slab holds every change up to. */
  seq: number;
  /** The snapshot to start from (every change after it is in `upserts` or `deletes`), or null for a graph of `upserts` alone. */
  base: { file: string; count: number } | null;
  upserts: number[];
  deletes: number[];
}

export interface BuiltGraph {
  graph: HnswGraph;
  manifest: SnapshotManifest;
}

/**
 * One graph built off the serving thread: the worker starts from the last
 * snapshot (or from nothing), the slab's vectors of the docs changed since
 * (as of the change log read up to `seq`) go to it in chunks, it inserts them,
 * deletes what was deleted, and writes a snapshot, and `done` resolves with that
 * snapshot verified (size, header, checksum) and loaded. Docs that change
 * after `seq` are noted (`noteChange`) for the caller to apply on top.
 */
export class OffThreadBuild {
  /** Docs changed after the vectors were taken: the new graph may hold an older state of them. */
  readonly changed = new Set<number>();
  readonly total: number;
  built = 0;
  readonly done: Promise<BuiltGraph>;
  private readonly worker: Worker;
  private cancelled = false;
  /** Wakes the sender when the builder reports progress. */
  private progressed: (() => void) | null = null;

  readonly seq: number;
  private readonly settings: GraphSettings;
  private readonly dir: string;

  constructor(slab: VectorSlab, plan: BuildPlan) {
    ({ seq: this.seq, settings: this.settings, dir: this.dir } = plan);
    this.total = plan.upserts.length;
    const job: GraphBuildJob = { settings: plan.settings, capacity: (plan.base?.count ?? 0) + plan.upserts.length, dir: plan.dir, modelKey: plan.modelKey, seq: plan.seq, base: plan.base };
    this.worker = startModuleWorker(import.meta.url, 'graph-build-worker', job);
    this.done = this.run(slab, plan.upserts, plan.deletes);
    // Whoever ends the build reads `done`; an unread failure must not end the process.
    this.done.catch(() => {});
  }

  noteChange(docId: number): void {
    this.changed.add(docId);
  }

  /** Stop the worker; `done` rejects. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    await this.worker.terminate();
  }

  private async run(slab: VectorSlab, docIds: number[], deletes: number[]): Promise<BuiltGraph> {
    const finished = this.finished();
    // A stop while chunks are still being sent rejects it before anything awaits it: that is not an unhandled failure.
    finished.catch(() => {});
    const { dimension } = this.settings;
    if (deletes.length > 0) this.post({ type: 'deletes', docIds: Float64Array.from(deletes) });
    let sent = 0;
    for (let start = 0; start < docIds.length && !this.cancelled; start += CHUNK) {
      await this.insertedAtLeast(sent - CHUNKS_AHEAD * CHUNK, finished);
      // A doc deleted since the ids were listed is left out; one changed is sent as it is now (and re-applied later).
      const ids = docIds.slice(start, start + CHUNK).filter((id) => slab.has(id));
      const vectors = new Float32Array(ids.length * dimension);
      ids.forEach((id, i) => slab.copyTo(id, vectors, i * dimension));
      this.post({ type: 'vectors', docIds: Float64Array.from(ids), vectors }, [vectors.buffer]);
      sent += ids.length;
      await yieldToEventLoop();
    }
    this.post({ type: 'end' });
    const manifest = await finished;
    await this.worker.terminate();
    const problem = await snapshotProblem(this.dir, manifest);
    if (problem !== null) throw new Error(`the built snapshot failed verification: ${problem}`);
    return { graph: await HnswGraph.load(`${this.dir}/${manifest.file}`, this.settings, manifest.count), manifest };
  }

  /** Wait until the builder has inserted `count` vectors (or has ended: then `finished` says how). */
  private async insertedAtLeast(count: number, finished: Promise<unknown>): Promise<void> {
    while (this.built < count && !this.cancelled) {
      await Promise.race([new Promise<void>((resolve) => (this.progressed = resolve)), finished]);
    }
  }

  private post(message: ToGraphBuilder, transfer: ArrayBuffer[] = []): void {
    if (!this.cancelled) this.worker.postMessage(message, transfer);
  }

  /** The worker's manifest, or why it has none: it failed, died or was stopped. */
  private finished(): Promise<SnapshotManifest> {
    return new Promise((resolve, reject) => {
      this.worker.on('message', (message: FromGraphBuilder) => {
        if (message.type === 'progress') {
          this.built = message.built;
          this.progressed?.();
        } else if (message.type === 'done') resolve(message.manifest);
        else reject(new Error(message.message));
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(this.cancelled ? 'the graph build was stopped' : `the graph builder exited (code ${code})`)));
    });
  }
}
