import type { Database, Statement } from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';

/** Between two tries for a lock another connection holds. */
const RETRY_MS = 1;

const isBusy = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 'SQLITE_BUSY';

/**
 * SQLite's write lock, waited for without stopping the event loop.
 *
 * A connection that finds the lock held by another process waits in SQLite's
 * busy handler, which sleeps (1, 2, 5, 10… ms) with the thread stopped: every
 * other call this process could answer meanwhile waits too. With two serving
 * processes on one file, where every call commits at least its audit row,
 * that sleep was a tenth of each process's time. Here `BEGIN IMMEDIATE` is
 * tried without a busy wait; while another connection holds the lock it is
 * tried again every millisecond, and this process serves other calls between
 * tries. After the connection's busy timeout has passed in tries, the last
 * SQLITE_BUSY is thrown, as the blocking wait would have.
 *
 * The work itself runs synchronously inside the transaction, so two writers
 * of one process never interleave; a `db.transaction` it calls nests as a
 * savepoint.
 */
export class WriteLock {
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly busyTimeoutMs: number;
  private readonly nested: <T>(work: () => T) => T;

  constructor(
    private readonly db: Database,
    busyTimeoutMs: number,
  ) {
    this.busyTimeoutMs = Math.max(0, Math.trunc(busyTimeoutMs));
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    const savepoint = db.transaction((work: () => unknown) => work());
    this.nested = <T>(work: () => T): T => savepoint(work) as T;
  }

  /**
   * Run `work` in a write transaction once the lock is free, and commit it.
   * `synced: false` commits without syncing to disk (synchronous=NORMAL): in
   * WAL mode the next synced commit makes it durable; a function is asked at
   * each try, just before it. Inside a transaction already open on this
   * connection, `work` runs in a savepoint of it.
   */
  async run<T>(work: () => T, { synced = true }: { synced?: boolean | (() => boolean) } = {}): Promise<T> {
    if (this.db.inTransaction) return this.nested(work);
    const started = Date.now();
    for (;;) {
      const done = this.tryRun(work, typeof synced === 'function' ? synced() : synced);
      if (done.ran) return done.value;
      if (Date.now() - started >= this.busyTimeoutMs) throw done.busy;
      await sleep(RETRY_MS);
      // Another call of this process may have opened a transaction meanwhile only if it awaits inside one (an export's read).
      if (this.db.inTransaction) return this.nested(work);
    }
  }

  /** One try: the lock taken, the work run and committed; or the lock held elsewhere. */
  private tryRun<T>(work: () => T, synced: boolean): { ran: true; value: T } | { ran: false; busy: unknown } {
    // Set outside the transaction, and back before anything else of this process can commit. These two
    // settings take effect when their PRAGMA is prepared, not when it runs: a prepared one kept and run again does nothing.
    if (!synced) this.db.pragma('synchronous = NORMAL');
    try {
      this.db.pragma('busy_timeout = 0');
      try {
        this.begin.run();
      } catch (error) {
        if (isBusy(error)) return { ran: false, busy: error };
        throw error;
      } finally {
        this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      }
      try {
        const value = work();
        // The work may have ended the transaction itself (SQLite rolls back on some errors, a full disk among them).
        if (this.db.inTransaction) this.commit.run();
        return { ran: true, value };
      } catch (error) {
        if (this.db.inTransaction) this.rollback.run();
        throw error;
      }
    } finally {
      if (!synced) this.db.pragma('synchronous = FULL');
    }
  }
}
