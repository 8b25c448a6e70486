import type { Database, Statement } from 'better-sqlite3';
import type { EmbeddedVector, IndexedText } from '../../domain/indexed-text.js';
import { ftsBody, vectorBytes, type NewDoc } from '../search-doc.js';
import { IGNORE_ROW_CHANGES, type FtsRowChanges } from './doc-lengths.js';


/**
 * The search layer's rows: one `search_docs` row (filter columns), its tags,
 * its FTS5 entry, its vector and the index change log, always written together
 * inside the caller's transaction.
 */
export class SearchDocs {
  private readonly insertDoc: Statement;
  private readonly insertTag: Statement;
  private readonly insertFts: Statement;
  private readonly deleteFts: Statement;
  private readonly deleteTags: Statement;
  private readonly deleteDocRow: Statement;
  private readonly setHiddenStmt: Statement;
  private readonly updateDocStmt: Statement;
  private readonly upsertVector: Statement;
  private readonly logChange: Statement;
  private readonly releaseStmt: Statement;

  constructor(
    db: Database,
    private readonly ftsChanges: FtsRowChanges = IGNORE_ROW_CHANGES,
  ) {
    this.insertDoc = db.prepare(`INSERT INTO search_docs
      (type, entity_id, namespace, layer, kind, goal_id, occurred_at, created_at, hidden, thread_id, thread_position, origin, held, flagged)
      VALUES (@type, @entity_id, @namespace, @layer, @kind, @goal_id, @occurred_at, @created_at, @hidden, @thread_id, @thread_position, @origin, @held, @flagged)`);
    this.insertTag = db.prepare('INSERT OR IGNORE INTO doc_tags (tag, doc_id) VALUES (?, ?)');
    this.insertFts = db.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)');
    this.deleteFts = db.prepare('DELETE FROM search_fts WHERE rowid = ?');
    this.deleteTags = db.prepare('DELETE FROM doc_tags WHERE doc_id = ?');
    this.deleteDocRow = db.prepare('DELETE FROM search_docs WHERE doc_id = ?');
    this.setHiddenStmt = db.prepare('UPDATE search_docs SET hidden = ? WHERE doc_id = ? AND hidden != ?');
    this.updateDocStmt = db.prepare('UPDATE search_docs SET kind = ?, hidden = ? WHERE doc_id = ?');
    this.upsertVector = db.prepare(`INSERT INTO doc_vectors (doc_id, model_key, vector) VALUES (?, ?, ?)
      ON CONFLICT (doc_id) DO UPDATE SET model_key = excluded.model_key, vector = excluded.vector`);
    this.logChange = db.prepare('INSERT INTO index_changes (doc_id, op) VALUES (?, ?)');
    this.releaseStmt = db.prepare('UPDATE search_docs SET held = 0, hidden = ? WHERE doc_id = ? AND held = 1');
  }

  /** Add a searchable record; returns its doc id. */
  add(doc: NewDoc, indexed: IndexedText): number {
    const { lastInsertRowid } = this.insertDoc.run({
      type: doc.type,
      entity_id: doc.entity_id,
      namespace: doc.namespace,
      layer: doc.layer,
      kind: doc.kind,
      goal_id: doc.goal_id,
      occurred_at: doc.occurred_at,
      created_at: doc.created_at,
      hidden: doc.hidden ? 1 : 0,
      thread_id: doc.thread_id ?? null,
      thread_position: doc.thread_position ?? null,
      origin: doc.origin,
      held: doc.held === true ? 1 : 0,
      flagged: doc.flagged ? 1 : 0,
    });
    const docId = Number(lastInsertRowid);
    for (const tag of doc.tags) this.insertTag.run(tag, docId);
    // Held for review: nothing to find it by (no full-text entry, no vector) until approved.
    if (doc.held === true) return docId;
    this.insertFts.run(docId, ftsBody(indexed));
    this.ftsChanges.forget(docId, true);
    if (indexed.vector) this.setVector(docId, indexed.vector, !doc.hidden);
    return docId;
  }

  /** Replace the indexed text, vector and tags of an existing record. */
  reindex(docId: number, indexed: IndexedText, tags: readonly string[], hidden: boolean, kind: string): void {
    this.deleteFts.run(docId);
    this.insertFts.run(docId, ftsBody(indexed));
    this.ftsChanges.forget(docId);
    this.deleteTags.run(docId);
    for (const tag of tags) this.insertTag.run(tag, docId);
    this.updateDocStmt.run(kind, hidden ? 1 : 0, docId);
    if (indexed.vector) this.setVector(docId, indexed.vector, !hidden);
  }

  /**
   * A held record approved: its full-text entry and vector written now, and
   * shown (unless `hidden`: superseded meanwhile). False when it was not held.
   */
  release(docId: number, indexed: IndexedText, hidden: boolean): boolean {
    if (this.releaseStmt.run(hidden ? 1 : 0, docId).changes === 0) return false;
    this.insertFts.run(docId, ftsBody(indexed));
    this.ftsChanges.forget(docId);
    if (indexed.vector) this.setVector(docId, indexed.vector, !hidden);
    else if (!hidden) this.logChange.run(docId, 'upsert');
    return true;
  }

  /** Store a record's vector; a visible record also enters the vector index. */
  setVector(docId: number, vector: EmbeddedVector, visible: boolean): void {
    this.upsertVector.run(docId, vector.modelKey, vectorBytes(vector.values));
    if (visible) this.logChange.run(docId, 'upsert');
  }

  /** Hide a record from search (superseded, replaced plan) or show it again. */
  setHidden(docId: number, hidden: boolean): void {
    const changed = this.setHiddenStmt.run(hidden ? 1 : 0, docId, hidden ? 1 : 0).changes > 0;
    if (changed) this.logChange.run(docId, hidden ? 'delete' : 'upsert');
  }

  remove(docId: number): void {
    this.deleteFts.run(docId);
    this.ftsChanges.forget(docId);
    this.deleteTags.run(docId);
    this.deleteDocRow.run(docId);
    this.logChange.run(docId, 'delete');
  }
}
