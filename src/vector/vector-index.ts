import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SnapshotManifest } from '../domain/vector-log.js';
import { HnswGraph } from './hnsw-graph.js';
import type { VectorIndexOptions, VectorIndexStats } from './index-settings.js';
import { GraphBuilds } from './graph-builds.js';
import type { BuiltGraph } from './off-thread-build.js';
import { removeOldSnapshots, writeSnapshot } from './snapshot-files.js';
import { searchGraphAndBacklog } from './backlog-search.js';
import { startingPoint } from './index-start.js';
import type { Neighbour, VectorSlab } from './vector-slab.js';

export type { VectorIndexOptions, VectorIndexStats } from './index-settings.js';

/** The serving thread applies backlog changes for at most this long before yielding to calls waiting… */
const DRAIN_SLICE_MS = 8;
/**
 * …and then rests this many times as long, so calls keep at least three
 * quarters of the thread: writes arriving faster than a quarter of it inserts
 * (a bulk load) pile up into a backlog a worker builds instead.
 */
const DRAIN_REST = 3;
/**
 * How often the index reads writes no search has read yet. Searches read them
 * anyway (read-your-writes); this makes a write-only bulk load start its graph
 * build while it runs instead of after its first search.
 */
const FOLLOW_MS = 1000;
const SNAPSHOT_SCALE_VECTORS = 100_000;
/** Long enough for the slowest snapshot we expect (about 5 s at 1M vectors); a killed writer frees it after this. */
const SNAPSHOT_LEASE_MS = 120_000;
const READ_CHUNK = 5000;
/** At shutdown, a backlog up to this size is applied so a snapshot can be written (a few seconds at most). */
const CLOSE_DRAIN_LIMIT = 5000;


/**
 * The one owner of a model's vector index. SQLite is the truth: the index
 * follows its change log (`catchUp`), keeps every vector in a slab for exact
 * scans, and applies changes to the HNSW graph in the background. It never
 * mutates the graph while a snapshot of it is being written; changes that
 * arrive meanwhile wait in the backlog and are answered by exact scan, so a
 * search always sees every committed write.
 */
export class VectorIndex {
  private graph: HnswGraph;
  private readonly backlog = new Map<number, 'upsert' | 'delete'>();
  private appliedSeq: number;
  private snapshotSeq: number;
  private firstUnsavedAt: number | null = null;
  private saving: Promise<void> | null = null;
  private draining: Promise<void> | null = null;
  /** Large backlogs built off the serving thread: when, from what, and the build in flight. */
  private readonly builds: GraphBuilds;
  private closed = false;
  /** Someone waits for the graph to catch up (settle, close): the backlog is applied without resting. */
  private settling = false;
  private readonly timer: NodeJS.Timeout;
  private readonly follower: NodeJS.Timeout;

  private constructor(
    private readonly options: VectorIndexOptions,
    private readonly slab: VectorSlab,
    graph: HnswGraph,
    seq: number,
    snapshotSeq: number,
    private readonly start: VectorIndexStats['start'],
  ) {
    this.graph = graph;
    this.builds = new GraphBuilds(options, { name: this.leaseName, ttlMs: SNAPSHOT_LEASE_MS });
    this.appliedSeq = seq;
    this.snapshotSeq = snapshotSeq;
    this.timer = setInterval(() => void this.maybeSnapshot(), Math.max(250, Math.min(options.snapshotIntervalMs, 5000)));
    this.timer.unref();
    this.follower = setInterval(() => this.follow(), FOLLOW_MS);
    this.follower.unref();
  }

  /**
   * Start from the newest verified snapshot and queue only the changes after
   * it, or from every vector in SQLite with an empty graph (index-start.ts).
   */
  static async open(options: VectorIndexOptions, signal?: AbortSignal): Promise<VectorIndex> {
    const from = await startingPoint(options, signal);
    if (from.mode === 'snapshot') {
      const { manifest, slab } = from;
      const index = new VectorIndex(options, slab, from.graph, manifest.seq, manifest.seq, { mode: 'snapshot', replayed: 0, reason: null });
      index.builds.recordSnapshot(manifest);
      index.start.replayed = index.queueChangesUpTo(from.seq);
      options.logger.info({ vectors: slab.size, snapshotSeq: manifest.seq, replayed: index.start.replayed }, 'vector index loaded from snapshot');
      index.scheduleDrain();
      return index;
    }
    const index = new VectorIndex(options, from.slab, from.graph, from.seq, 0, { mode: 'rebuild', replayed: 0, reason: from.reason });
    for (const docId of from.slab.docIds()) index.backlog.set(docId, 'upsert');
    if (from.slab.size > 0) index.firstUnsavedAt = Date.now();
    index.scheduleDrain();
    return index;
  }

  /** Read log changes after `from` (up to `to`, when given) into the slab and the backlog; returns how many. */
  private queueChangesUpTo(to?: number): number {
    let count = 0;
    for (;;) {
      const changes = this.options.log.changesSince(this.appliedSeq, this.options.modelKey, READ_CHUNK);
      for (const change of changes) {
        if (to !== undefined && change.seq > to) break;
        this.builds.noteChange(change.doc_id, change.seq);
        const vector = change.op === 'upsert' ? change.vector : null;
        if (vector && vector.length === this.slab.dimension) {
          this.slab.set(change.doc_id, vector);
          this.backlog.set(change.doc_id, 'upsert');
        } else {
          this.slab.delete(change.doc_id);
          this.backlog.set(change.doc_id, 'delete');
        }
        this.appliedSeq = change.seq;
        count += 1;
      }
      const last = changes.at(-1);
      if (changes.length < READ_CHUNK || (to !== undefined && last !== undefined && last.seq >= to)) break;
    }
    if (count > 0) this.firstUnsavedAt ??= Date.now();
    return count;
  }

  /** Read writes made since the last read, when there are any (the check is one indexed lookup). */
  private follow(): void {
    try {
      if (this.options.log.lastSeq() > this.appliedSeq) this.catchUp();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the vector change log; the next search reads it');
    }
  }

  /** Follow the log: after this, every committed change is visible to `search`. Cheap when nothing changed. */
  catchUp(): number {
    if (this.closed) return 0;
    const count = this.queueChangesUpTo();
    if (count > 0) {
      this.scheduleDrain();
      if (this.appliedSeq - this.snapshotSeq >= this.options.snapshotEveryChanges) void this.maybeSnapshot();
    }
    return count;
  }

  /** The k nearest records by cosine similarity, among `admitted` doc ids when given (backlog-search.ts). */
  search(query: Float32Array, k: number, admitted?: readonly number[]): Neighbour[] {
    return searchGraphAndBacklog(this.graph, this.slab, this.backlog, this.options.exactScanLimit, query, k, admitted);
  }

  /**
   * The k nearest among `admitted`, every one of them scored exactly (the
   * slab holds every change read), whatever the graph holds: the answer
   * depends on the admitted records alone, and costs time in proportion to them.
   */
  scan(query: Float32Array, k: number, admitted: Iterable<number>): Neighbour[] {
    return this.slab.search(query, k, admitted);
  }

  private scheduleDrain(): void {
    if (this.builds.running || this.draining || this.saving || this.backlog.size === 0 || this.closed) return;
    if (this.builds.wanted(this.backlog.size) && this.startBuild()) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.backlog.size > 0 && !this.saving) this.scheduleDrain();
    });
  }

  /** Build the graph in a worker; searches meanwhile scan the backlog exactly, as always. False when another process holds the lease. */
  private startBuild(): boolean {
    return this.builds.start(this.slab, this.appliedSeq, this.backlog.size, {
      takeOver: (built, changed, started) => this.takeOver(built, changed, started),
      ended: () => this.scheduleDrain(),
      closed: () => this.closed,
    });
  }

  /**
   * Serve from the built graph: it holds every vector as of the build's log
   * position; docs that changed since go back in the backlog, and its
   * snapshot becomes the one a restart loads.
   */
  private async takeOver({ graph, manifest }: BuiltGraph, changed: ReadonlySet<number>, started: number): Promise<void> {
    if (this.closed) return;
    graph.keepOnly((docId) => this.slab.has(docId));
    const replaced = this.graph;
    this.graph = graph;
    this.backlog.clear();
    for (const docId of changed) this.backlog.set(docId, this.slab.has(docId) ? 'upsert' : 'delete');
    this.options.log.writeManifest(manifest);
    this.recordSnapshot(manifest);
    await removeOldSnapshots(this.options.dir, this.options.modelKey, manifest.file);
    this.options.logger.info({ vectors: graph.size, seq: manifest.seq, replayed: this.backlog.size, ms: Date.now() - started }, 'vector graph built off the serving thread');
    // A snapshot of the old graph may still be being written (none starts during a build, but nothing relies on that).
    if (this.saving) await this.saving;
    replaced.release();
  }

  /** Apply the backlog to the graph in short slices, resting between them so searches and writes keep flowing. */
  private async drain(): Promise<void> {
    let sliceStarted = performance.now();
    for (const [docId, op] of this.backlog) {
      if (this.saving || this.closed || this.builds.running) return;
      const vector = op === 'upsert' ? this.slab.get(docId) : undefined;
      try {
        if (vector) this.graph.upsert(docId, vector);
        else this.graph.remove(docId);
      } catch (error) {
        this.options.logger.error({ err: error, docId }, 'could not apply a change to the vector graph; it stays in the exact-scan backlog');
        continue;
      }
      this.backlog.delete(docId);
      const sliceMs = performance.now() - sliceStarted;
      if (sliceMs >= DRAIN_SLICE_MS) {
        // A backlog grown large meanwhile goes to a worker instead.
        if (this.builds.wanted(this.backlog.size)) return;
        await (this.settling ? yieldToEventLoop() : sleep(sliceMs * DRAIN_REST));
        sliceStarted = performance.now();
      }
    }
    this.compactIfNeeded();
  }

  /** Deleted labels keep their slots; when they pile up, rebuild the graph from the slab. */
  private compactIfNeeded(): void {
    const dead = this.graph.slotsUsed - this.graph.size;
    if (dead < 1000 || dead < this.graph.size * 0.3) return;
    this.options.logger.info({ live: this.graph.size, dead }, 'compacting the vector graph');
    this.graph.release();
    this.graph = HnswGraph.create(this.options.graph, this.slab.size + 1024);
    for (const docId of this.slab.docIds()) this.backlog.set(docId, 'upsert');
    this.firstUnsavedAt ??= Date.now();
    this.builds.compactionStarted();
  }

  /** A snapshot at `manifest.seq` is on record: the next build may start from it, with the changes after it. */
  private recordSnapshot(manifest: SnapshotManifest): void {
    this.snapshotSeq = manifest.seq;
    this.firstUnsavedAt = this.appliedSeq > manifest.seq ? Date.now() : null;
    this.builds.recordSnapshot(manifest);
  }

  /** Write a snapshot when enough changes or time have passed and the graph is caught up. */
  async maybeSnapshot(force = false): Promise<void> {
    if (this.saving || this.appliedSeq === this.snapshotSeq || this.firstUnsavedAt === null) return;
    const scale = Math.max(1, this.graph.size / (this.options.snapshotScaleVectors ?? SNAPSHOT_SCALE_VECTORS));
    const due =
      force ||
      this.appliedSeq - this.snapshotSeq >= this.options.snapshotEveryChanges * scale ||
      Date.now() - this.firstUnsavedAt >= this.options.snapshotIntervalMs * scale;
    if (!due) return;
    if (this.draining) await this.draining;
    if (this.backlog.size > 0 || this.saving) return;
    this.saving = this.saveNow().finally(() => {
      this.saving = null;
      this.scheduleDrain();
    });
    await this.saving;
  }

  private async saveNow(): Promise<void> {
    const seq = this.appliedSeq;
    const started = Date.now();
    // One writer per data directory: other processes follow the same log and skip.
    if (!this.options.log.acquireLease(this.leaseName, SNAPSHOT_LEASE_MS)) {
      this.firstUnsavedAt = Date.now();
      return;
    }
    try {
      const manifest = await writeSnapshot(this.graph, this.options.dir, this.options.modelKey, seq);
      this.options.log.writeManifest(manifest);
      await removeOldSnapshots(this.options.dir, this.options.modelKey, manifest.file);
      this.recordSnapshot(manifest);
      this.options.logger.info({ seq, vectors: this.graph.size, bytes: manifest.bytes, ms: Date.now() - started }, 'vector snapshot written');
    } catch (error) {
      // The changes are safe in SQLite; the next snapshot tries again.
      this.options.logger.error({ err: error }, 'could not write the vector snapshot');
      this.firstUnsavedAt = Date.now();
    } finally {
      this.options.log.releaseLease(this.leaseName);
    }
  }

  private get leaseName(): string {
    return `snapshot:${this.options.modelKey}`;
  }

  /** Wait for the graph to hold every change read so far (for tests and tools that need it settled). */
  async settle(): Promise<void> {
    this.settling = true;
    try {
      while (this.draining || this.saving || this.builds.running || (this.backlog.size > 0 && !this.closed)) {
        this.scheduleDrain();
        await (this.builds.ended ?? this.draining ?? this.saving ?? yieldToEventLoop());
      }
    } finally {
      this.settling = false;
    }
  }

  /** Filters admitting at most this many records are scanned exactly. */
  get exactScanLimit(): number {
    return this.options.exactScanLimit;
  }

  stats(): VectorIndexStats {
    return {
      model_key: this.options.modelKey,
      dimension: this.options.graph.dimension,
      vectors: this.slab.size,
      backlog: this.backlog.size,
      ...(this.builds.running ? { building: this.builds.progress() } : {}),
      applied_seq: this.appliedSeq,
      snapshot_seq: this.snapshotSeq,
      start: { ...this.start },
    };
  }

  /**
   * Stop the timer and write a final snapshot if anything is unsaved. A small
   * backlog is finished first; a large one (a bulk load still being indexed)
   * is left to the next start, which replays it from SQLite: shutting down
   * must not take minutes.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    clearInterval(this.follower);
    this.catchUp();
    // A graph still being built is left to the next start, which builds it again from SQLite and its last snapshot.
    if (this.builds.running) {
      this.closed = true;
      await this.builds.cancel();
      return;
    }
    if (this.backlog.size <= CLOSE_DRAIN_LIMIT) await this.settle();
    this.closed = true;
    if (this.draining) await this.draining;
    if (this.saving) await this.saving;
    if (this.backlog.size === 0) await this.maybeSnapshot(true);
  }
}
