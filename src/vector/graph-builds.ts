import type { SnapshotManifest } from '../domain/vector-log.js';
import type { VectorIndexOptions } from './index-settings.js';
import { OffThreadBuild, type BuiltGraph } from './off-thread-build.js';
import type { VectorSlab } from './vector-slab.js';

/**
 * Backlogs from this size up are built into a new graph off the serving
 * thread (default of `offThreadBuildAbove`): at a million vectors, about a
 * second of inserts, which the serving thread would take from its calls.
 */
const OFF_THREAD_BUILD_ABOVE = 2_000;
/** After a failed off-thread build, the backlog is applied on the serving thread for this long before another is tried. */
const BUILD_RETRY_MS = 60_000;
/** After another process refused this one the snapshot lease, no build is tried for this long (its snapshot or build takes seconds to minutes). */
const LEASE_RETRY_MS = 5_000;
/** The snapshot lease is renewed this often while a build holds it. */
const LEASE_RENEW_MS = 30_000;

/** What the index does with a build's outcome. */
export interface BuildHandlers {
  /** Serve from the built graph; `changed` lists the docs changed after its vectors were taken. */
  takeOver(built: BuiltGraph, changed: ReadonlySet<number>, started: number): Promise<void>;
  /** The build has ended, taken over or given up: the backlog may be applied on the serving thread. */
  ended(): void;
  closed(): boolean;
}

/**
 * When a vector index builds its graph off the serving thread, and from what:
 * the snapshot on record (the next build's starting point), the docs changed
 * since it, and the build in flight. A large backlog (a bulk load, a rebuild,
 * a new model) is cheaper to build into a new graph than to insert on the
 * serving thread, which it would hold for minutes at a million; during a bulk
 * load, builds follow one another, each from the last one's snapshot.
 */
export class GraphBuilds {
  private current: { job: OffThreadBuild; ended: Promise<void> } | null = null;
  private failedAt = 0;
  private refusedAt = 0;
  /** The snapshot on record; null until one is written or loaded. */
  private base: { file: string; count: number } | null = null;
  /** Docs changed after the snapshot on record, with the log position of their last change. */
  private readonly changedSinceSnapshot = new Map<number, number>();
  /** The graph was emptied to drop deleted slots: the next build starts from nothing, not from the snapshot that holds them. */
  private compacting = false;

  constructor(
    private readonly options: VectorIndexOptions,
    private readonly lease: { name: string; ttlMs: number },
  ) {}

  get running(): boolean {
    return this.current !== null;
  }

  /** Resolves when the build in flight has ended (immediately when there is none). */
  get ended(): Promise<void> | null {
    return this.current?.ended ?? null;
  }

  progress(): { built: number; vectors: number } | undefined {
    return this.current ? { built: this.current.job.built, vectors: this.current.job.total } : undefined;
  }

  noteChange(docId: number, seq: number): void {
    this.current?.job.noteChange(docId);
    this.changedSinceSnapshot.set(docId, seq);
  }

  /** A snapshot at `manifest.seq` is on record: the next build may start from it, with the changes after it. */
  recordSnapshot(manifest: SnapshotManifest): void {
    this.base = { file: manifest.file, count: manifest.count };
    for (const [docId, seq] of this.changedSinceSnapshot) if (seq <= manifest.seq) this.changedSinceSnapshot.delete(docId);
  }

  compactionStarted(): void {
    this.compacting = true;
  }

  /**
   * Whether a backlog this large is built off the serving thread now. However
   * large the index, a worker's build (which loads the last snapshot, inserts,
   * writes and hands over a new one) costs the serving thread less than
   * inserting a backlog this large itself.
   */
  wanted(backlog: number): boolean {
    const above = this.options.offThreadBuildAbove ?? OFF_THREAD_BUILD_ABOVE;
    const now = Date.now();
    return !this.current && above > 0 && backlog >= above && now - this.failedAt >= BUILD_RETRY_MS && now - this.refusedAt >= LEASE_RETRY_MS;
  }

  /**
   * Start a build in a worker, holding the snapshot lease (another process
   * holding it is writing or building: this one then applies its backlog on
   * the serving thread). It starts from the snapshot on record (loading it
   * costs far less than inserting what it holds) with the docs changed since,
   * or from the whole slab. False when the lease is taken.
   */
  start(slab: VectorSlab, seq: number, backlog: number, handlers: BuildHandlers): boolean {
    const { log, logger } = this.options;
    if (!log.acquireLease(this.lease.name, this.lease.ttlMs)) {
      // Until a retry is due, the backlog is applied on the serving thread, which otherwise would stop at every slice to try again.
      this.refusedAt = Date.now();
      return false;
    }
    const renew = setInterval(() => log.acquireLease(this.lease.name, this.lease.ttlMs), LEASE_RENEW_MS);
    renew.unref();
    const started = Date.now();
    const base = this.compacting ? null : this.base;
    const changed = base ? [...this.changedSinceSnapshot.keys()] : [];
    const job = new OffThreadBuild(slab, {
      settings: this.options.graph,
      dir: this.options.dir,
      modelKey: this.options.modelKey,
      seq,
      base,
      upserts: base ? changed.filter((docId) => slab.has(docId)) : [...slab.docIds()],
      deletes: base ? changed.filter((docId) => !slab.has(docId)) : [],
    });
    this.compacting = false;
    logger.info({ vectors: job.total, from: base ? base.count : 0, backlog, seq }, 'building the vector graph off the serving thread');
    const ended = job.done
      .then(
        (built) => handlers.takeOver(built, job.changed, started),
        (error: unknown) => {
          if (handlers.closed()) return;
          this.failedAt = Date.now();
          logger.warn({ err: error, vectors: job.total }, 'the off-thread graph build failed; applying the backlog here instead');
        },
      )
      .finally(() => {
        clearInterval(renew);
        log.releaseLease(this.lease.name);
        this.current = null;
        handlers.ended();
      });
    this.current = { job, ended };
    return true;
  }

  /** Stop the build in flight, if any, and wait for it to end. */
  async cancel(): Promise<void> {
    if (!this.current) return;
    const { job, ended } = this.current;
    await job.cancel();
    await ended;
  }
}
