import type { Database, Statement } from 'better-sqlite3';
import { IGNORE_ROW_CHANGES, type FtsRowChanges } from './doc-lengths.js';

interface Member {
  doc_id: number;
  content: string;
}

/**
 * Keeps `window_fts` (see migration 0006) in step with the threads: each
 * visible thread memory has one row holding its own text and that of its
 * visible neighbours. A change at one position (a memory added, removed,
 * hidden or shown again) rewrites the windows of that position and of the
 * neighbours on either side; nothing else in the thread changes.
 */
export class ThreadWindows {
  private readonly threadOf: Statement;
  private readonly before: Statement;
  private readonly after: Statement;
  private readonly self: Statement;
  private readonly insert: Statement;
  private readonly remove: Statement;
  private readonly setMembers: Statement;
  private readonly removeMembers: Statement;

  constructor(
    db: Database,
    private readonly ftsChanges: FtsRowChanges = IGNORE_ROW_CHANGES,
  ) {
    this.threadOf = db.prepare('SELECT namespace, thread_id, thread_position FROM search_docs WHERE doc_id = ?');
    const member = 'SELECT d.doc_id, m.content FROM search_docs d JOIN memories m ON m.doc_id = d.doc_id';
    this.before = db.prepare(`${member} WHERE d.namespace = ? AND d.thread_id = ? AND d.thread_position < ? AND d.hidden = 0
      ORDER BY d.thread_position DESC LIMIT 2`);
    this.after = db.prepare(`${member} WHERE d.namespace = ? AND d.thread_id = ? AND d.thread_position > ? AND d.hidden = 0
      ORDER BY d.thread_position ASC LIMIT 2`);
    this.self = db.prepare(`${member} WHERE d.doc_id = ? AND d.hidden = 0`);
    this.insert = db.prepare('INSERT INTO window_fts (rowid, body) VALUES (?, ?)');
    this.remove = db.prepare('DELETE FROM window_fts WHERE rowid = ?');
    this.setMembers = db.prepare('INSERT OR REPLACE INTO thread_windows (doc_id, before_doc, after_doc) VALUES (?, ?, ?)');
    this.removeMembers = db.prepare('DELETE FROM thread_windows WHERE doc_id = ?');
  }

  /** The thread of a doc, or undefined when it is in none (call before deleting the doc's row). */
  locate(docId: number): ThreadPlace | undefined {
    const row = this.threadOf.get(docId) as { namespace: string; thread_id: string | null; thread_position: number | null } | undefined;
    if (!row || row.thread_id === null || row.thread_position === null) return undefined;
    return { doc_id: docId, namespace: row.namespace, thread_id: row.thread_id, position: row.thread_position };
  }

  /** Rewrite the windows touched by a change to the doc at this place. */
  refresh(place: ThreadPlace): void {
    const before = (this.before.all(place.namespace, place.thread_id, place.position) as Member[]).reverse();
    const after = this.after.all(place.namespace, place.thread_id, place.position) as Member[];
    const self = this.self.get(place.doc_id) as Member | undefined;
    this.remove.run(place.doc_id);
    this.ftsChanges.forget(place.doc_id);
    this.removeMembers.run(place.doc_id);
    const run = [...before, ...(self ? [self] : []), ...after];
    // The outermost members only provide text: their own windows reach beyond the change.
    for (let i = 0; i < run.length; i += 1) {
      const centre = run[i]!;
      const touched = (i > 0 || before.length < 2) && (i < run.length - 1 || after.length < 2);
      if (!touched) continue;
      if (centre.doc_id !== place.doc_id) this.remove.run(centre.doc_id);
      this.ftsChanges.forget(centre.doc_id);
      const body = [run[i - 1]?.content, centre.content, run[i + 1]?.content].filter((text) => text !== undefined).join('\n');
      this.insert.run(centre.doc_id, body);
      this.setMembers.run(centre.doc_id, run[i - 1]?.doc_id ?? null, run[i + 1]?.doc_id ?? null);
    }
  }
}

export interface ThreadPlace {
  doc_id: number;
  namespace: string;
  thread_id: string;
  position: number;
}
