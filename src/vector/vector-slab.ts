import { DocIdTable } from './doc-id-table.js';

/** A scored neighbour: higher similarity (cosine, for unit vectors) is closer. */
export interface Neighbour {
  docId: number;
  similarity: number;
}

/** The largest int8 code: a vector's largest |component| becomes ±127. */
const LEVELS = 127;

/**
 * A vector's scale: max|v| / 127, in float32, taken at a fixed point of
 * quantize → dequantize → quantize, so a vector read back dequantized (from
 * the graph, or a snapshot written from it) quantizes to the same bytes.
 */
function scaleFor(maxAbs: number): number {
  let scale = Math.fround(maxAbs / LEVELS);
  for (let i = 0; i < 4; i++) {
    const again = Math.fround(Math.fround(scale * LEVELS) / LEVELS);
    if (again === scale) break;
    scale = again;
  }
  return scale;
}

/**
 * Every indexed vector, by doc id, held compactly: int8 codes with one float32
 * scale per vector (symmetric: v ≈ code × scale, scale = max|v| / 127), about
 * a quarter of float32's size (100 MB + 4 MB for a million 100-dimension
 * vectors instead of 400 MB). SQLite keeps the float32 vectors; this is the
 * in-memory copy. It answers exact searches over small subsets (selective
 * filters, changes not yet in the HNSW graph) faster than a filtered graph
 * walk, and it is what a rebuild or a snapshot reload starts from. The graph
 * is fed the dequantized vectors (`get`), so a vector read back from a
 * snapshot quantizes to the codes it came from: a start from a snapshot and a
 * start from SQLite give the same exact scores.
 */
export class VectorSlab {
  private codes: Int8Array;
  private scales: Float32Array;
  private readonly slotOf = new DocIdTable();
  private docAt: Float64Array;
  private readonly free: number[] = [];
  private used = 0;
  /** An aligned float32 view for `setBytes`, whose bytes may start anywhere. */
  private readonly scratch: Float32Array;
  private readonly scratchBytes: Uint8Array;

  constructor(readonly dimension: number, initialCapacity = 1024) {
    this.codes = new Int8Array(initialCapacity * dimension);
    this.scales = new Float32Array(initialCapacity);
    this.docAt = new Float64Array(initialCapacity).fill(-1);
    this.scratch = new Float32Array(dimension);
    this.scratchBytes = new Uint8Array(this.scratch.buffer);
  }

  get size(): number {
    return this.slotOf.size;
  }

  has(docId: number): boolean {
    return this.slotOf.has(docId);
  }

  /** The vector, dequantized (a new array: the slab keeps only codes). */
  get(docId: number): Float32Array | undefined {
    const slot = this.slotOf.get(docId);
    if (slot === undefined) return undefined;
    const vector = new Float32Array(this.dimension);
    this.decode(slot, vector, 0);
    return vector;
  }

  /** The vector, dequantized into `target` at `offset`; false when the doc is not here. */
  copyTo(docId: number, target: Float32Array, offset: number): boolean {
    const slot = this.slotOf.get(docId);
    if (slot === undefined) return false;
    this.decode(slot, target, offset);
    return true;
  }

  set(docId: number, vector: Float32Array): void {
    if (vector.length !== this.dimension) throw new Error(`vector has ${vector.length} dimensions, expected ${this.dimension}`);
    const slot = this.slotFor(docId); // may grow (replace) the arrays: take the slot first
    this.encode(slot, vector);
  }

  /**
   * The same from the stored bytes (float32, little-endian, as SQLite holds
   * them), through one reusable aligned buffer: no array per vector, so
   * loading a million vectors makes no garbage. False when the length is wrong.
   */
  setBytes(docId: number, bytes: Uint8Array): boolean {
    if (bytes.byteLength !== this.dimension * 4) return false;
    this.scratchBytes.set(bytes);
    this.encode(this.slotFor(docId), this.scratch);
    return true;
  }

  private encode(slot: number, vector: Float32Array): void {
    const dim = this.dimension;
    const codes = this.codes;
    let maxAbs = 0;
    for (let i = 0; i < dim; i++) {
      const a = Math.abs(vector[i]!);
      if (a > maxAbs) maxAbs = a;
    }
    const base = slot * dim;
    // A zero vector, or one that is not finite (never from an embedder), is stored as zeros.
    if (!(maxAbs > 0) || maxAbs === Infinity) {
      codes.fill(0, base, base + dim);
      this.scales[slot] = 0;
      return;
    }
    const scale = scaleFor(maxAbs);
    const inverse = 1 / scale;
    for (let i = 0; i < dim; i++) {
      // Rounded half away from zero, symmetric; |x| <= 127 up to rounding error, clamped all the same.
      // The sign is applied without a branch: components' signs are random, and a
      // mispredicted branch per component made this loop three times slower.
      const x = vector[i]! * inverse;
      const rounded = (Math.abs(x) + 0.5) | 0;
      const magnitude = rounded > LEVELS ? LEVELS : rounded;
      const negative = Number(x < 0);
      codes[base + i] = (magnitude ^ -negative) + negative;
    }
    this.scales[slot] = scale;
  }

  private decode(slot: number, target: Float32Array, offset: number): void {
    const dim = this.dimension;
    const base = slot * dim;
    const scale = this.scales[slot]!;
    for (let i = 0; i < dim; i++) target[offset + i] = this.codes[base + i]! * scale;
  }

  /** Make room for this many vectors at once (one allocation instead of repeated growth). */
  reserve(capacity: number): void {
    while (this.docAt.length < capacity) this.grow(capacity);
  }

  private slotFor(docId: number): number {
    let slot = this.slotOf.get(docId);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.used++;
      if (slot >= this.docAt.length) this.grow();
      this.slotOf.set(docId, slot);
      this.docAt[slot] = docId;
    }
    return slot;
  }

  delete(docId: number): void {
    const slot = this.slotOf.get(docId);
    if (slot === undefined) return;
    this.slotOf.delete(docId);
    this.docAt[slot] = -1;
    this.free.push(slot);
  }

  *docIds(): Iterable<number> {
    yield* this.slotOf.keys();
  }

  /** Exact top-k by dot product (cosine for unit vectors) with the dequantized vectors, over the given docs, or all of them. */
  search(query: Float32Array, k: number, only?: Iterable<number>): Neighbour[] {
    const top = new TopK(k);
    const dim = this.dimension;
    const codes = this.codes;
    const scales = this.scales;
    const score = (slot: number): number => {
      const base = slot * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let i = 0;
      for (; i + 3 < dim; i += 4) {
        s0 += codes[base + i]! * query[i]!;
        s1 += codes[base + i + 1]! * query[i + 1]!;
        s2 += codes[base + i + 2]! * query[i + 2]!;
        s3 += codes[base + i + 3]! * query[i + 3]!;
      }
      for (; i < dim; i++) s0 += codes[base + i]! * query[i]!;
      return (s0 + s1 + s2 + s3) * scales[slot]!;
    };
    if (only) {
      for (const docId of only) {
        const slot = this.slotOf.get(docId);
        if (slot !== undefined) top.offer(docId, score(slot));
      }
    } else {
      for (let slot = 0; slot < this.used; slot++) {
        const docId = this.docAt[slot]!;
        if (docId >= 0) top.offer(docId, score(slot));
      }
    }
    return top.sorted();
  }

  private grow(atLeast = 0): void {
    const capacity = Math.max(atLeast, Math.ceil(this.docAt.length * 1.5) + 16);
    const codes = new Int8Array(capacity * this.dimension);
    codes.set(this.codes);
    this.codes = codes;
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.scales = scales;
    const docAt = new Float64Array(capacity).fill(-1);
    docAt.set(this.docAt);
    this.docAt = docAt;
  }
}

/** The k best scores seen, kept in a small sorted array (k is small: tens to hundreds). */
export class TopK {
  private readonly items: Neighbour[] = [];

  constructor(private readonly k: number) {}

  offer(docId: number, similarity: number): void {
    if (this.k <= 0) return;
    if (this.items.length === this.k && similarity <= this.items[this.items.length - 1]!.similarity) return;
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.similarity < similarity) i--;
    this.items.splice(i, 0, { docId, similarity });
    if (this.items.length > this.k) this.items.pop();
  }

  sorted(): Neighbour[] {
    return this.items;
  }
}
