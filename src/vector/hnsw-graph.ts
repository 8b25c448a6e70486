import hnswlib from 'hnswlib-node';
import { DocIdTable } from './doc-id-table.js';
import type { Neighbour } from './vector-slab.js';

const { HierarchicalNSW } = hnswlib;
type Native = InstanceType<typeof HierarchicalNSW>;

export interface GraphSettings {
  dimension: number;
  m: number;
  efConstruction: number;
  efSearch: number;
}

const MAX_LABEL = 2 ** 32 - 1;

/**
 * Inner product (distance 1 − a·b): every vector stored is unit length (the
 * embedders normalise them) up to the slab's int8 rounding, so this is cosine
 * distance, and hnswlib keeps each vector as given: the slab's dequantized
 * vector, which quantizes again to the same codes. Its cosine space would
 * normalise each once more, changing it: the vectors a start reads back from
 * a snapshot file would then quantize to other codes than those from SQLite,
 * and exact scores would differ. Snapshots written by the cosine space, or of
 * float32 vectors, load the same way (their vectors quantize as SQLite's do).
 */
const SPACE = 'ip';

/** hnswlib labels are uint32 and wrap silently (2^32+5 becomes 5, -1 becomes 2^32-1): refuse anything else. */
export function checkLabel(docId: number): number {
  if (!Number.isInteger(docId) || docId < 0 || docId > MAX_LABEL) throw new RangeError(`doc id ${docId} cannot be an HNSW label`);
  return docId;
}

/**
 * The HNSW graph (hnswlib-node, inner product over unit vectors) behind a small safe surface:
 * labels are checked, capacity grows ahead of need, vectors go in as plain
 * arrays, deletes tolerate unknown labels, and filter callbacks can never
 * throw into native code (which aborts the process). Not safe to mutate while
 * a snapshot of it is being written: the owner (VectorIndex) guarantees that.
 */
/**
 * The search effort for a graph of this size: the configured ef up to 100,000
 * vectors, then growing with the logarithm of the size (×2.5 at a million): a
 * larger graph needs a wider beam for the same recall (measured at a million,
 * M 16, bundled model: ef 200 → recall@10 0.90, 400 → 0.95, 800 → 0.97).
 */
export function efForSize(base: number, size: number): number {
  return size <= 100_000 ? base : Math.round(base * (1 + 1.5 * Math.log10(size / 100_000)));
}

export class HnswGraph {
  private ef: number;

  private constructor(
    private readonly native: Native,
    readonly settings: GraphSettings,
    /** Labels in the graph and not deleted. */
    private readonly live: DocIdTable,
  ) {
    this.ef = settings.efSearch;
    native.setEf(this.ef);
  }

  static create(settings: GraphSettings, capacity = 1024): HnswGraph {
    const native = new HierarchicalNSW(SPACE, settings.dimension);
    native.initIndex({ maxElements: Math.max(16, capacity), m: settings.m, efConstruction: settings.efConstruction, randomSeed: 100 });
    return new HnswGraph(native, settings, new DocIdTable());
  }

  /**
   * Load a snapshot file into a fresh native object (a failed load over an
   * existing index leaves a dangling pointer in the addon). The caller has
   * already verified the file's size and checksum.
   */
  static async load(file: string, settings: GraphSettings, expectedSlots: number): Promise<HnswGraph> {
    const native = new HierarchicalNSW(SPACE, settings.dimension);
    await native.readIndex(file);
    if (native.getCurrentCount() !== expectedSlots) {
      throw new Error(`snapshot holds ${native.getCurrentCount()} slots, its manifest says ${expectedSlots}`);
    }
    // An empty snapshot reloads with capacity 0; grow it before the first add.
    if (native.getMaxElements() < 16) native.resizeIndex(16);
    const live = new DocIdTable(native.getCurrentCount());
    for (const label of native.getIdsList()) live.set(label, 1);
    return new HnswGraph(native, settings, live);
  }

  /**
   * Make the graph hold exactly the given docs' labels as live: labels of docs
   * no longer present are deleted (the file keeps deleted labels, and the API
   * cannot tell them apart, so each is deleted again, tolerating "already
   * deleted"). Vectors that changed are the caller's to re-add.
   */
  keepOnly(present: (docId: number) => boolean): void {
    for (const label of this.live.keys()) {
      if (present(label)) continue;
      try {
        this.native.markDelete(label);
      } catch {
        // Already deleted in the snapshot.
      }
      this.live.delete(label);
    }
  }

  get size(): number {
    return this.live.size;
  }

  /** Slots used, deleted ones included: what capacity and compaction decisions look at. */
  get slotsUsed(): number {
    return this.native.getCurrentCount();
  }

  has(docId: number): boolean {
    return this.live.has(docId);
  }

  upsert(docId: number, vector: Float32Array): void {
    const label = checkLabel(docId);
    if (vector.length !== this.settings.dimension) throw new Error(`vector has ${vector.length} dimensions, expected ${this.settings.dimension}`);
    if (this.native.getCurrentCount() + 1 > this.native.getMaxElements()) {
      this.native.resizeIndex(Math.ceil(this.native.getMaxElements() * 1.5) + 16);
    }
    // Re-adding a deleted label un-deletes and updates it in place.
    this.native.addPoint(Array.from(vector), label);
    this.live.set(label, 1);
  }

  remove(docId: number): void {
    if (!this.live.has(docId)) return;
    try {
      this.native.markDelete(checkLabel(docId));
    } catch {
      // Already deleted in the snapshot this graph was loaded from (its labels look live until deleted again).
    }
    this.live.delete(docId);
  }

  /** Nearest neighbours by cosine, optionally only among admitted labels. */
  search(query: Float32Array, k: number, admitted?: (docId: number) => boolean): Neighbour[] {
    const n = Math.min(k, this.live.size);
    if (n === 0) return [];
    const ef = efForSize(this.settings.efSearch, this.live.size);
    if (ef !== this.ef) this.native.setEf((this.ef = ef));
    const filter = admitted
      ? (label: number): boolean => {
          try {
            return admitted(label);
          } catch {
            return false;
          }
        }
      : undefined;
    const { neighbors, distances } = this.native.searchKnn(Array.from(query), n, filter);
    return neighbors.map((docId, i) => ({ docId, similarity: 1 - distances[i]! }));
  }

  /**
   * Free the native graph now and leave an empty one: its memory (hundreds of
   * MB at a million) would otherwise wait for a garbage collection that does
   * not know its size. For a graph replaced by another.
   */
  release(): void {
    this.native.initIndex({ maxElements: 16, m: this.settings.m, efConstruction: this.settings.efConstruction, randomSeed: 100 });
    this.live.clear();
  }

  /** Write the graph to a file (on a libuv thread); no mutation may happen until it resolves. */
  async write(file: string): Promise<void> {
    await this.native.writeIndex(file);
  }
}
