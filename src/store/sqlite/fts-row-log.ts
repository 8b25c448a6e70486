import type { Database, Statement } from 'better-sqlite3';
import { IGNORE_ROW_CHANGES, type FtsRowChanges } from './doc-lengths.js';

/** Entries kept: a process that has not followed the log for longer reads every row length again. */
export const KEPT_LOG_ENTRIES = 100_000;
/** Trim the log once every this many entries. */
const TRIM_EVERY = 1_000;

/**
 * Writes each full-text row a write rewrites or removes into
 * `fts_row_changes`, in the write's own transaction, then tells `next` (this
 * process's lengths). Another process holding the table's row lengths in
 * memory reads these entries to know which rows to read again (doc-lengths.ts).
 *
 * A new row needs no entry: its rowid is past every row read so far, since
 * doc ids are never given twice (AUTOINCREMENT), and readers read such rows
 * by rowid. A row written again under an old rowid (a held record approved,
 * a thread window rewritten) does need one.
 */
export class FtsRowLog implements FtsRowChanges {
  private readonly insert: Statement;
  private readonly trim: Statement;
  private sinceTrim = 0;

  constructor(
    db: Database,
    private readonly table: string,
    private readonly next: FtsRowChanges = IGNORE_ROW_CHANGES,
  ) {
    this.insert = db.prepare('INSERT INTO fts_row_changes (fts, row_id) VALUES (?, ?)');
    this.trim = db.prepare('DELETE FROM fts_row_changes WHERE seq <= (SELECT max(seq) FROM fts_row_changes) - ?');
  }

  forget(rowid: number, fresh = false): void {
    if (!fresh) {
      this.insert.run(this.table, rowid);
      this.sinceTrim += 1;
      if (this.sinceTrim >= TRIM_EVERY) {
        this.sinceTrim = 0;
        this.trim.run(KEPT_LOG_ENTRIES);
      }
    }
    this.next.forget(rowid, fresh);
  }
}
