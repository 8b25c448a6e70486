/** The table never grows past this many ids per id held (plus a floor), so one far-off id cannot claim gigabytes. */
const SPREAD = 4;
const MIN_TABLE = 1 << 20;
const EMPTY = -1;

/**
 * A small non-negative integer per doc id: the slab's slot of each vector, or
 * the graph's live labels. Doc ids are SQLite row ids, dense from 1 up, so a
 * flat table indexed by id (4 bytes an id: 4 MB for a million) replaces a Map
 * or a Set (tens of bytes an entry, and 0.1–0.3 s to fill at a million when a
 * snapshot loads). An id that does not fit the table (negative, fractional,
 * or far beyond the ids held) goes to a Map instead.
 */
export class DocIdTable {
  private table: Int32Array;
  private readonly overflow = new Map<number, number>();
  private count = 0;

  constructor(expected = 0) {
    this.table = new Int32Array(Math.max(1024, expected)).fill(EMPTY);
  }

  get size(): number {
    return this.count;
  }

  private inTable(docId: number): boolean {
    return docId >>> 0 === docId && docId < this.table.length;
  }

  get(docId: number): number | undefined {
    if (this.inTable(docId)) {
      const slot = this.table[docId]!;
      return slot === EMPTY ? undefined : slot;
    }
    return this.overflow.get(docId);
  }

  has(docId: number): boolean {
    return this.get(docId) !== undefined;
  }

  /** Hold `value` (a non-negative integer below 2^31) for the doc id. */
  set(docId: number, value: number): void {
    if (!this.inTable(docId) && docId >>> 0 === docId) this.growFor(docId);
    if (this.inTable(docId)) {
      if (this.table[docId] === EMPTY) this.count += 1;
      this.table[docId] = value;
    } else {
      if (!this.overflow.has(docId)) this.count += 1;
      this.overflow.set(docId, value);
    }
  }

  delete(docId: number): void {
    if (this.inTable(docId)) {
      if (this.table[docId] === EMPTY) return;
      this.table[docId] = EMPTY;
    } else if (!this.overflow.delete(docId)) return;
    this.count -= 1;
  }

  clear(): void {
    this.table = new Int32Array(1024).fill(EMPTY);
    this.overflow.clear();
    this.count = 0;
  }

  /** Every doc id held; deleting ids while iterating is safe. */
  *keys(): Iterable<number> {
    const table = this.table;
    for (let docId = 0; docId < table.length; docId++) if (table[docId] !== EMPTY) yield docId;
    yield* this.overflow.keys();
  }

  /** Widen the table to hold `docId` when the ids held would still fill enough of it. */
  private growFor(docId: number): void {
    const limit = Math.max(MIN_TABLE, (this.count + 1) * SPREAD);
    if (docId >= limit) return;
    const table = new Int32Array(Math.min(limit, Math.max(docId + 1, Math.ceil(this.table.length * 1.5)))).fill(EMPTY);
    table.set(this.table);
    this.table = table;
    // Ids the old table could not hold may fit now.
    for (const [id, value] of this.overflow) {
      if (this.inTable(id)) {
        table[id] = value;
        this.overflow.delete(id);
      }
    }
  }
}
