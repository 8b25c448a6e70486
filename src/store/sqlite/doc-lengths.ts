import type { Database, Statement } from 'better-sqlite3';

/** Rows read per step of the background load: about 5 ms each, so searches meanwhile wait little. */
const LOAD_SLICE = 5_000;

/**
 * FTS5 keeps each row's token count as a varint blob in `<table>_docsize`.
 * One or two bytes (up to 16,383 tokens) are decoded in SQL: reading a
 * million blobs into JS buffers took twice as long. Longer ones come back as
 * hex, for `varintsFromHex`.
 */
const HEX_DIGITS = "'0123456789ABCDEF'";
const byteAt = (i: number): string => `(instr(${HEX_DIGITS}, substr(h, ${2 * i + 1}, 1)) * 16 + instr(${HEX_DIGITS}, substr(h, ${2 * i + 2}, 1)) - 17)`;
const TOKENS = `CASE length(h) WHEN 2 THEN ${byteAt(0)} WHEN 4 THEN (${byteAt(0)} - 128) * 128 + ${byteAt(1)} ELSE h END`;

/** SQLite's varints (7 bits a byte, high bit set on all but a value's last byte), written as hex, in order. */
export function varintsFromHex(hex: string): number[] {
  const values: number[] = [];
  let value = 0;
  for (let i = 0; i + 1 < hex.length; i += 2) {
    const byte = Number.parseInt(hex.slice(i, i + 2), 16);
    value = value * 128 + (byte & 0x7f);
    if (byte < 0x80) {
      values.push(value);
      value = 0;
    }
  }
  return values;
}

/** Told of each full-text row a write adds (`fresh`: under a rowid never used before), rewrites or removes. */
export interface FtsRowChanges {
  forget(rowid: number, fresh?: boolean): void;
}

/** For writers whose table nobody keeps lengths of. */
export const IGNORE_ROW_CHANGES: FtsRowChanges = { forget: () => undefined };

/** Counts the rows a writer changes, and passes each on: a cheap sign that something read earlier may be out of date. */
export class CountedRowChanges implements FtsRowChanges {
  count = 0;

  constructor(private readonly next: FtsRowChanges = IGNORE_ROW_CHANGES) {}

  forget(rowid: number, fresh?: boolean): void {
    this.count += 1;
    this.next.forget(rowid, fresh);
  }
}

/**
 * The token count of every row of a one-column FTS5 table, held in memory so
 * BM25 can be computed without a lookup per matching row (FTS5's bm25() does
 * one: at a million rows that lookup was most of a keyword search's time).
 *
 * Loaded in slices in the background the first time it is needed. Rows added
 * since are read when a search next asks (`catchUp`), by rowid: new rows come
 * after every row read. Rows this process rewrites or removes are read again
 * (`forget`); so are those another process did, which it wrote into the
 * change log (fts-row-log.ts): `catchUp` follows the log, inside the search's
 * read transaction, whenever another connection has committed (SQLite's
 * data_version moved). If entries it had not followed were trimmed, every
 * length is read again, in the background, and FTS5 scores meanwhile.
 */
export class DocLengths implements FtsRowChanges {
  /** Tokens + 1 per rowid; 0: not read (or no such row). */
  private lengths = new Uint32Array(1024);
  /** Every rowid up to this one has been read. */
  private readUpTo = 0;
  private state: 'idle' | 'loading' | 'ready' | 'closed' = 'idle';
  private loading: Promise<void> | undefined;
  private readonly stale = new Set<number>();
  /** Moves whenever a row is read, forgotten or everything is reset: what was read from the table before may differ now. */
  private changes = 0;
  private readonly after: Statement;
  private readonly some: Statement;
  private readonly dataVersion: Statement;
  private readonly logEnd: Statement;
  private readonly logStart: Statement;
  private readonly logAfter: Statement;
  /** Every entry of the change log up to this one has been followed. */
  private followed = 0;
  /** data_version when the log was last followed: while it has not moved, no other connection has committed. */
  private followedVersion: number | undefined;

  constructor(
    db: Database,
    private readonly table: string,
  ) {
    this.after = db.prepare(`SELECT id, ${TOKENS} FROM (SELECT id, hex(sz) AS h FROM "${table}_docsize" WHERE id > ? ORDER BY id LIMIT ?)`).raw();
    this.some = db.prepare(`SELECT id, ${TOKENS} FROM (SELECT id, hex(sz) AS h FROM "${table}_docsize" WHERE id IN (SELECT value FROM json_each(?)))`).raw();
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.logEnd = db.prepare('SELECT coalesce(max(seq), 0) FROM fts_row_changes').pluck();
    this.logStart = db.prepare('SELECT min(seq) FROM fts_row_changes').pluck();
    this.logAfter = db.prepare('SELECT row_id FROM fts_row_changes WHERE seq > ? AND seq <= ? AND fts = ?').pluck();
  }

  /** Every row's length is known (once loaded, kept so by `catchUp`). */
  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Loaded: the lengths can be used once `catchUp` has run in the search's read transaction. Otherwise starts loading them and says no. */
  current(): boolean {
    if (this.state === 'ready') return true;
    void this.load();
    return false;
  }

  /** Start reading every row's length, a slice at a time between other work; resolves when all are read (or reading failed). */
  load(): Promise<void> {
    this.loading ??= new Promise<void>((resolve) => {
      if (this.state !== 'idle') return resolve();
      this.state = 'loading';
      this.startFollowing();
      const step = (): void => {
        if (this.state !== 'loading') return resolve();
        try {
          if (this.readSlice(LOAD_SLICE) < LOAD_SLICE) {
            this.state = 'ready';
            return resolve();
          }
        } catch {
          // A read failed (I/O, a closed database): FTS5 keeps scoring, and the next search tries again.
          this.reset();
          return resolve();
        }
        setImmediate(step);
      };
      setImmediate(step);
    });
    return this.loading;
  }

  /** Read everything now (tests, and small tables). */
  loadNow(): void {
    if (this.state === 'closed') return;
    this.startFollowing();
    while (this.readSlice(LOAD_SLICE) === LOAD_SLICE);
    this.state = 'ready';
  }

  /** This process changed the row: read it again before its next use. */
  forget(rowid: number): void {
    this.changes += 1;
    if (rowid <= this.readUpTo) this.stale.add(rowid);
  }

  /**
   * Inside a read transaction: read the rows added since, those this process
   * changed, and those other processes changed (from the change log). False
   * when the log no longer holds all that was missed: then the lengths are
   * read again from the start, in the background, and are not to be used.
   */
  catchUp(): boolean {
    if (!this.follow()) return false;
    while (this.readSlice(LOAD_SLICE) === LOAD_SLICE);
    if (this.stale.size > 0) {
      const ids = [...this.stale];
      const rows = this.some.all(JSON.stringify(ids)) as Array<[number, number | string]>;
      // Only once the read succeeded: a failed one leaves them to be read again.
      this.stale.clear();
      for (const id of ids) this.drop(id);
      for (const [id, tokens] of rows) this.set(id, tokens);
    }
    return true;
  }

  /** Where the change log ends when a load starts: later entries are followed after it. */
  private startFollowing(): void {
    this.followedVersion = this.dataVersion.get() as number;
    this.followed = this.logEnd.get() as number;
  }

  /** Mark the rows other connections changed since the last time as stale; false (and a reload begun) if their entries were trimmed. */
  private follow(): boolean {
    const version = this.dataVersion.get() as number;
    if (version === this.followedVersion) return true;
    const start = this.logStart.get() as number | null;
    if (start !== null && start > this.followed + 1) {
      this.reset();
      void this.load();
      return false;
    }
    const end = this.logEnd.get() as number;
    const changed = this.logAfter.all(this.followed, end, this.table) as number[];
    for (const rowid of changed) if (rowid <= this.readUpTo) this.stale.add(rowid);
    if (changed.length > 0) this.changes += 1;
    this.followed = end;
    this.followedVersion = version;
    return true;
  }

  /**
   * These rows' token counts read from the table now, whatever is held in
   * memory: for a caller that must not wait for a load nor use lengths
   * another process may have made stale.
   */
  readNow(rowids: readonly number[]): Map<number, number> {
    const rows = this.some.all(JSON.stringify(rowids)) as Array<[number, number | string]>;
    return new Map(rows.map(([id, tokens]) => [id, typeof tokens === 'string' ? (varintsFromHex(tokens)[0] ?? 0) : tokens]));
  }

  /**
   * A number that changes whenever the rows may have: this process added
   * (and `catchUp` read), rewrote or removed one, another process's logged
   * changes were followed, or the lengths were reset to be read again. After
   * `catchUp()`, equal generations mean an unchanged table.
   */
  get generation(): number {
    return this.changes;
  }

  /** Tokens in the row (0 for a row never read). */
  of(rowid: number): number {
    return Math.max(0, (this.lengths[rowid] ?? 0) - 1);
  }

  close(): void {
    this.state = 'closed';
  }

  /** Forget everything read, to read it all again. */
  private reset(): void {
    if (this.state === 'closed') return;
    this.lengths = new Uint32Array(1024);
    this.readUpTo = 0;
    this.changes += 1;
    this.stale.clear();
    this.state = 'idle';
    this.loading = undefined;
  }

  private readSlice(size: number): number {
    const rows = this.after.all(this.readUpTo, size) as Array<[number, number | string]>;
    for (const [id, tokens] of rows) this.set(id, tokens);
    if (rows.length > 0) {
      this.readUpTo = rows[rows.length - 1]![0];
      this.changes += 1;
    }
    return rows.length;
  }
  private set(rowid: number, tokens: number | string): void {
    if (rowid >= this.lengths.length) {
      const grown = new Uint32Array(Math.max(rowid + 1, this.lengths.length * 2));
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.lengths[rowid] = (typeof tokens === 'string' ? (varintsFromHex(tokens)[0] ?? 0) : tokens) + 1;
  }

  private drop(rowid: number): void {
    if (rowid < this.lengths.length) this.lengths[rowid] = 0;
  }
}
