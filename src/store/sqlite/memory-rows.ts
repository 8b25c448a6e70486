import { memoryDoc } from '../search-doc.js';
import type { Database, Statement } from 'better-sqlite3';
import type { IndexedText } from '../../domain/indexed-text.js';
import type { Memory } from '../../domain/memory.js';
import { reinforcedMemoryGone, withEvidence, type Reinforcement } from '../../domain/evidence.js';
import { parseJson } from '../json.js';
import { injectionColumn, toMemory, type MemoryRow } from '../memory-mapping.js';
import type { EvidenceRows } from './evidence-rows.js';
import type { SearchDocs } from './search-docs.js';
import type { ThreadWindows } from './thread-windows.js';

/** Memory rows and the search docs that mirror them; callers open the transaction. */
export class MemoryRows {
  private readonly insert: Statement;
  private readonly byId: Statement;
  private readonly markSuperseded: Statement;
  private readonly clearSuperseded: Statement;
  private readonly deleteRow: Statement;
  private readonly nextPosition: Statement;
  private readonly setMetadata: Statement;
  private readonly heldRows: Statement;
  private readonly heldInNamespace: Statement;
  private readonly releaseHeld: Statement;

  constructor(
    private readonly db: Database,
    private readonly docs: SearchDocs,
    private readonly windows: ThreadWindows,
    private readonly evidence: EvidenceRows,
  ) {
    this.insert = db.prepare(`INSERT INTO memories
      (id, doc_id, namespace, layer, kind, content, tags, metadata, importance, source, goal_id,
       occurred_at, created_at, updated_at, supersedes, superseded_by, thread_id, thread_position, origin, origin_ref, written_by, injection, held)
      VALUES (@id, @doc_id, @namespace, @layer, @kind, @content, @tags, @metadata, @importance, @source, @goal_id,
       @occurred_at, @created_at, @updated_at, @supersedes, @superseded_by, @thread_id, @thread_position, @origin, @origin_ref, @written_by, @injection, @held)`);
    this.nextPosition = db.prepare(
      'SELECT COALESCE(MAX(thread_position), 0) + 1 AS next FROM search_docs WHERE namespace = ? AND thread_id = ?',
    );
    this.byId = db.prepare('SELECT * FROM memories WHERE id = ?');
    this.markSuperseded = db.prepare('UPDATE memories SET superseded_by = ?, updated_at = ? WHERE id = ?');
    this.clearSuperseded = db.prepare('UPDATE memories SET superseded_by = NULL, updated_at = ? WHERE id = ? AND superseded_by = ?');
    this.deleteRow = db.prepare('DELETE FROM memories WHERE id = ?');
    this.setMetadata = db.prepare('UPDATE memories SET metadata = ?, updated_at = ? WHERE id = ?');
    this.heldRows = db.prepare('SELECT * FROM memories WHERE held = 1 ORDER BY id');
    this.heldInNamespace = db.prepare('SELECT * FROM memories WHERE held = 1 AND namespace = ? ORDER BY id');
    this.releaseHeld = db.prepare('UPDATE memories SET held = 0, updated_at = ? WHERE id = ? AND held = 1');
  }

  /** One more outcome in a memory's evidence (inside the caller's write transaction). */
  reinforce(r: Reinforcement): void {
    const row = this.row(r.memory_id);
    if (!row) throw reinforcedMemoryGone(r.memory_id);
    this.setMetadata.run(JSON.stringify(withEvidence(parseJson<Record<string, unknown>>(row.metadata, {}), r)), r.at, r.memory_id);
  }

  /** Every memory, oldest first (ids sort by creation), streamed; optionally one namespace. */
  *all(namespace?: string): Iterable<Memory> {
    const statement = namespace === undefined ? this.db.prepare('SELECT * FROM memories ORDER BY id') : this.db.prepare('SELECT * FROM memories WHERE namespace = ? ORDER BY id');
    const rows = (namespace === undefined ? statement.iterate() : statement.iterate(namespace)) as Iterable<MemoryRow>;
    for (const row of rows) yield toMemory(row);
  }

  get(id: string): Memory | undefined {
    const row = this.byId.get(id) as MemoryRow | undefined;
    return row ? toMemory(row) : undefined;
  }

  private row(id: string): MemoryRow | undefined {
    return this.byId.get(id) as MemoryRow | undefined;
  }

  add(memory: Memory, indexed: IndexedText): void {
    if (memory.thread_id !== null && memory.thread_position === null) {
      memory.thread_position = (this.nextPosition.get(memory.namespace, memory.thread_id) as { next: number }).next;
    }
    const docId = this.docs.add(memoryDoc(memory), indexed);
    this.insert.run({
      ...memory,
      doc_id: docId,
      tags: JSON.stringify(memory.tags),
      metadata: JSON.stringify(memory.metadata),
      injection: injectionColumn(memory.injection),
      held: memory.held ? 1 : 0,
    });
    // A held memory corrects nothing until approved: held text must not hide a visible memory.
    if (memory.supersedes !== null && !memory.held) this.supersede(memory.supersedes, memory.id, memory.created_at);
    this.refreshWindows(docId);
  }

  /** Mark a memory corrected by another (a held one is never: its doc stays held); `onlyCurrent`: unless corrected already. */
  private supersede(oldId: string, byId: string, at: string, onlyCurrent = false): void {
    const old = this.row(oldId);
    if (!old || old.held === 1 || (onlyCurrent && old.superseded_by !== null)) return;
    this.markSuperseded.run(byId, at, old.id);
    this.docs.setHidden(old.doc_id, true);
    this.refreshWindows(old.doc_id);
  }

  /** Held memories, oldest first, optionally of one namespace (the review queue). */
  held(namespace?: string): Memory[] {
    const rows = (namespace === undefined ? this.heldRows.all() : this.heldInNamespace.all(namespace)) as MemoryRow[];
    return rows.map(toMemory);
  }

  /**
   * Approve a held memory: indexed by `indexed` (its full-text entry and
   * vector written now), shown, and the memory it names in supersedes
   * corrected. False when it is not stored or not held.
   */
  approve(id: string, indexed: IndexedText, now: string): boolean {
    const row = this.row(id);
    if (!row || row.held !== 1) return false;
    this.releaseHeld.run(now, id);
    this.docs.release(row.doc_id, indexed, row.superseded_by !== null);
    if (row.supersedes !== null) this.supersede(row.supersedes, id, now, true);
    this.refreshWindows(row.doc_id);
    return true;
  }

  private refreshWindows(docId: number): void {
    const place = this.windows.locate(docId);
    if (place) this.windows.refresh(place);
  }

  /** Delete one memory; a memory it had superseded becomes visible again. */
  remove(id: string, now: string): boolean {
    const row = this.row(id);
    if (!row) return false;
    const place = this.windows.locate(row.doc_id);
    this.deleteRow.run(id);
    this.evidence.remove(id);
    this.docs.remove(row.doc_id);
    if (place) this.windows.refresh(place);
    if (row.supersedes !== null) {
      const restored = this.clearSuperseded.run(now, row.supersedes, id);
      const old = restored.changes > 0 ? this.row(row.supersedes) : undefined;
      if (old) {
        this.docs.setHidden(old.doc_id, false);
        this.refreshWindows(old.doc_id);
      }
    }
    return true;
  }
}
