/** A scored neighbour: higher similarity (cosine, for unit vectors) is closer. */
export interface Neighbour {
  docId: number;
  similarity: number;
}

/**
 * Every indexed vector in one growable Float32Array, by doc id. It answers
 * exact searches over small subsets (selective filters, changes not yet in the
 * HNSW graph) faster than a filtered graph walk, and it is what a rebuild or a
 * snapshot reload starts from.
 */
export class VectorSlab {
  private data: Float32Array;
  private readonly slotOf = new Map<number, number>();
  private docAt: Float64Array;
  private readonly free: number[] = [];
  private used = 0;

  constructor(readonly dimension: number, initialCapacity = 1024) {
    this.data = new Float32Array(initialCapacity * dimension);
    this.docAt = new Float64Array(initialCapacity).fill(-1);
  }

  get size(): number {
    return this.slotOf.size;
  }

  has(docId: number): boolean {
    return this.slotOf.has(docId);
  }

  get(docId: number): Float32Array | undefined {
    const slot = this.slotOf.get(docId);
    return slot === undefined ? undefined : this.data.subarray(slot * this.dimension, (slot + 1) * this.dimension);
  }

  set(docId: number, vector: Float32Array): void {
    if (vector.length !== this.dimension) throw new Error(`vector has ${vector.length} dimensions, expected ${this.dimension}`);
    const slot = this.slotFor(docId); // may grow (replace) the data array: take the slot first
    this.data.set(vector, slot * this.dimension);
  }

  /**
   * The same from the stored bytes (float32, little-endian, as SQLite holds
   * them): copied straight into the slab, with no Float32Array per vector, so
   * loading a million vectors makes no garbage. False when the length is wrong.
   */
  setBytes(docId: number, bytes: Uint8Array): boolean {
    if (bytes.byteLength !== this.dimension * 4) return false;
    const offset = this.slotFor(docId) * this.dimension * 4;
    new Uint8Array(this.data.buffer, this.data.byteOffset + offset, bytes.byteLength).set(bytes);
    return true;
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

  /** Exact top-k by dot product (cosine for unit vectors) over the given docs, or all of them. */
  search(query: Float32Array, k: number, only?: Iterable<number>): Neighbour[] {
    const top = new TopK(k);
    const dim = this.dimension;
    const score = (slot: number): number => {
      const base = slot * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let i = 0;
      for (; i + 3 < dim; i += 4) {
        s0 += this.data[base + i]! * query[i]!;
        s1 += this.data[base + i + 1]! * query[i + 1]!;
        s2 += this.data[base + i + 2]! * query[i + 2]!;
        s3 += this.data[base + i + 3]! * query[i + 3]!;
      }
      for (; i < dim; i++) s0 += this.data[base + i]! * query[i]!;
      return s0 + s1 + s2 + s3;
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
    const data = new Float32Array(capacity * this.dimension);
    data.set(this.data);
    this.data = data;
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
