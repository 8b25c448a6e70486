import type pg from 'pg';
import type { Memory } from '../../domain/memory.js';
import { reinforcedMemoryGone, withEvidence, type Reinforcement } from '../../domain/evidence.js';
import { parseJson } from '../json.js';
import { injectionColumn, toMemory, type MemoryRow } from '../memory-mapping.js';
import type { IndexedText } from '../../domain/indexed-text.js';
import type { NewMemory } from '../store.js';
import type { TermCounts } from '../fts-tokenizer.js';
import { ftsBody, memoryDoc } from '../search-doc.js';
import type { DocIndex } from './doc-index.js';
import { lockThread, type WriteTx } from './write-tx.js';
import { evidenceRecords } from './evidence-records.js';
import { query } from './pool.js';
import { decoded, toDb } from './text-escape.js';

/** Speaker and author names a memory's metadata gives as text (what the speaker boost looks for). */
const namesIn = (metadata: Record<string, unknown>): string[] =>
  ['speaker', 'author'].map((key) => metadata[key]).filter((value): value is string => typeof value === 'string');

/** A memory whose writing reads and changes no other record's rows: in no thread (no windows), superseding nothing; and not held (a held doc is written otherwise). */
const standsAlone = ({ memory }: NewMemory): boolean => memory.thread_id === null && memory.supersedes === null && !memory.held;

/** Memory rows and the search docs that mirror them; callers open the transaction. */
export class MemoryRecords {
  constructor(private readonly docs: DocIndex) {}

  /** One more outcome in a memory's evidence: the row locked, read, rewritten (inside the caller's write transaction). */
  async reinforce(tx: WriteTx, r: Reinforcement): Promise<void> {
    const [row] = await tx.query<{ metadata: string }>('SELECT metadata FROM memories WHERE id = $1 FOR UPDATE', [r.memory_id]);
    if (!row) throw reinforcedMemoryGone(r.memory_id);
    await tx.query('UPDATE memories SET metadata = $1, updated_at = $2 WHERE id = $3', [JSON.stringify(withEvidence(parseJson<Record<string, unknown>>(row.metadata, {}), r)), r.at, r.memory_id]);
  }

  async addAll(tx: WriteTx, items: readonly NewMemory[]): Promise<void> {
    const counts = tx.count(items.map((item) => ftsBody(item.indexed)));
    // In order: each run of memories outside threads that supersede nothing is written at once; the others one by one.
    for (let i = 0; i < items.length; ) {
      let end = i;
      while (end < items.length && standsAlone(items[end]!)) end++;
      if (end > i) {
        await this.addStandalone(tx, items.slice(i, end), counts.slice(i, end));
        i = end;
      } else {
        await this.add(tx, items[i]!, counts[i]);
        i++;
      }
    }
  }

  /**
   * Memories that touch no other record (no thread, nothing superseded) in a
   * few statements whatever their number: the same rows add() writes for each.
   */
  private async addStandalone(tx: WriteTx, items: readonly NewMemory[], counts: readonly TermCounts[]): Promise<void> {
    const memories = items.map((item) => item.memory);
    const docIds = await this.docs.addMany(tx, memories.map(memoryDoc), items.map((item) => item.indexed), counts);
    const names = [...new Set(memories.flatMap((memory) => namesIn(memory.metadata)))];
    const column = <T>(of: (memory: Memory) => T): T[] => memories.map(of);
    await tx.query(
      `WITH speakers AS (INSERT INTO speaker_names (name) SELECT unnest($19::text[]) ON CONFLICT (name) DO NOTHING)
       INSERT INTO memories (id, doc_id, namespace, layer, kind, content, tags, metadata, importance, source, goal_id,
         occurred_at, created_at, updated_at, supersedes, superseded_by, thread_id, thread_position, origin, origin_ref, written_by, injection)
       SELECT id, doc_id, namespace, layer, kind, content, tags, metadata, importance, source, goal_id,
         occurred_at, created_at, updated_at, supersedes, superseded_by, thread_id, thread_position, origin, origin_ref, written_by, injection
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::text[], $11::text[],
         $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::float8[], $20::text[], $21::text[], $22::text[], $23::text[])
         WITH ORDINALITY AS x(id, doc_id, namespace, layer, kind, content, tags, metadata, importance, source, goal_id,
           occurred_at, created_at, updated_at, supersedes, superseded_by, thread_id, thread_position, origin, origin_ref, written_by, injection, ord)
       ORDER BY ord`,
      [
        column((m) => m.id), docIds, column((m) => m.namespace), column((m) => m.layer), column((m) => m.kind), column((m) => toDb(m.content)),
        column((m) => JSON.stringify(m.tags)), column((m) => JSON.stringify(m.metadata)), column((m) => m.importance), column((m) => toDb(m.source)),
        column((m) => m.goal_id), column((m) => m.occurred_at), column((m) => m.created_at), column((m) => m.updated_at), column((m) => m.supersedes),
        column((m) => m.superseded_by), column((m) => m.thread_id), column((m) => m.thread_position), names,
        column((m) => m.origin), column((m) => m.origin_ref), column((m) => m.written_by), column((m) => injectionColumn(m.injection)),
      ],
    );
  }

  private async add(tx: WriteTx, { memory, indexed }: NewMemory, counts: TermCounts | undefined): Promise<void> {
    if (memory.thread_id !== null && memory.thread_position === null) {
      // Two servers appending to one thread at once must not take the same position.
      await lockThread(tx, memory.namespace, memory.thread_id);
      const [row] = await tx.query<{ next: number }>(
        'SELECT COALESCE(MAX(thread_position), 0) + 1 AS next FROM search_docs WHERE namespace = $1 AND thread_id = $2',
        [memory.namespace, memory.thread_id],
      );
      memory.thread_position = row!.next;
    }
    const docId = await this.docs.add(tx, memoryDoc(memory), indexed, counts);
    await tx.query(
      `INSERT INTO memories (id, doc_id, namespace, layer, kind, content, tags, metadata, importance, source, goal_id,
         occurred_at, created_at, updated_at, supersedes, superseded_by, thread_id, thread_position, origin, origin_ref, written_by, injection, held)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
      [memory.id, docId, memory.namespace, memory.layer, memory.kind, toDb(memory.content), JSON.stringify(memory.tags), JSON.stringify(memory.metadata),
        memory.importance, toDb(memory.source), memory.goal_id, memory.occurred_at, memory.created_at, memory.updated_at, memory.supersedes,
        memory.superseded_by, memory.thread_id, memory.thread_position, memory.origin, memory.origin_ref, memory.written_by,
        injectionColumn(memory.injection), memory.held],
    );
    const names = namesIn(memory.metadata);
    if (names.length > 0) await tx.query('INSERT INTO speaker_names (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING', [names]);
    // A held memory corrects nothing until approved: held text must not hide a visible memory.
    if (memory.supersedes !== null && !memory.held) await this.supersede(tx, memory.supersedes, memory.id, memory.created_at);
    await this.refreshWindows(tx, docId);
  }

  /** Mark a memory corrected by another (a held one never is: its doc stays held); `onlyCurrent`: unless corrected already. */
  private async supersede(tx: WriteTx, oldId: string, byId: string, at: string, onlyCurrent = false): Promise<void> {
    const [old] = await tx.query<{ id: string; doc_id: number }>(
      `UPDATE memories SET superseded_by = $1, updated_at = $2 WHERE id = $3 AND NOT held${onlyCurrent ? ' AND superseded_by IS NULL' : ''} RETURNING id, doc_id`,
      [byId, at, oldId],
    );
    if (old) {
      await this.docs.setHidden(tx, old.doc_id, true);
      await this.refreshWindows(tx, old.doc_id);
    }
  }

  /** Held memories, oldest first, optionally of one namespace (the review queue). */
  async held(db: pg.Pool | pg.PoolClient, namespace?: string): Promise<Memory[]> {
    const rows = await query<MemoryRow>(db, `SELECT * FROM memories WHERE held${namespace === undefined ? '' : ' AND namespace = $1'} ORDER BY id`, namespace === undefined ? [] : [namespace]);
    return rows.map((row) => toMemory(decoded(row, 'content', 'source')));
  }

  /** Approve a held memory (see MemoryStore.approveMemory); false when it is not stored or not held. */
  async approve(tx: WriteTx, id: string, indexed: IndexedText, now: string): Promise<boolean> {
    const [placed] = await tx.query<{ namespace: string; thread_id: string | null }>('SELECT namespace, thread_id FROM memories WHERE id = $1', [id]);
    if (!placed) return false;
    if (placed.thread_id !== null) await lockThread(tx, placed.namespace, placed.thread_id);
    const [row] = await tx.query<{ doc_id: number; supersedes: string | null; superseded_by: string | null }>(
      'UPDATE memories SET held = FALSE, updated_at = $1 WHERE id = $2 AND held RETURNING doc_id, supersedes, superseded_by',
      [now, id],
    );
    if (!row) return false;
    await this.docs.release(tx, row.doc_id, indexed, row.superseded_by !== null);
    if (row.supersedes !== null) await this.supersede(tx, row.supersedes, id, now, true);
    await this.refreshWindows(tx, row.doc_id);
    return true;
  }

  private async refreshWindows(tx: WriteTx, docId: number): Promise<void> {
    const place = await this.docs.locate(tx, docId);
    if (place) await this.docs.refreshWindows(tx, place);
  }

  /** Delete one memory; a memory it had superseded becomes visible again. */
  async remove(tx: WriteTx, id: string, now: string): Promise<boolean> {
    // Its thread's lock before any change: taken only when its windows are rewritten, after the
    // delete, it could deadlock with an append to the thread that wants the deleted rows.
    const [placed] = await tx.query<{ namespace: string; thread_id: string | null }>('SELECT namespace, thread_id FROM memories WHERE id = $1', [id]);
    if (!placed) return false;
    if (placed.thread_id !== null) await lockThread(tx, placed.namespace, placed.thread_id);
    const [row] = await tx.query<{ doc_id: number; supersedes: string | null }>('DELETE FROM memories WHERE id = $1 RETURNING doc_id, supersedes', [id]);
    if (!row) return false;
    await evidenceRecords.remove(tx, id);
    const place = await this.docs.locate(tx, row.doc_id);
    await this.docs.remove(tx, row.doc_id);
    if (place) await this.docs.refreshWindows(tx, place);
    if (row.supersedes !== null) {
      const [old] = await tx.query<{ doc_id: number }>(
        'UPDATE memories SET superseded_by = NULL, updated_at = $1 WHERE id = $2 AND superseded_by = $3 RETURNING doc_id',
        [now, row.supersedes, id],
      );
      if (old) {
        await this.docs.setHidden(tx, old.doc_id, false);
        await this.refreshWindows(tx, old.doc_id);
      }
    }
    return true;
  }

  async get(db: pg.Pool | pg.PoolClient, ids: readonly string[]): Promise<Memory[]> {
    if (ids.length === 0) return [];
    // Through pool.ts's query(): a lost database is the retryable tool error, not an internal one.
    const rows = await query<MemoryRow>(db, 'SELECT * FROM memories WHERE id = ANY($1::text[])', [[...ids]]);
    const byId = new Map(rows.map((row) => [row.id, toMemory(decoded(row, 'content', 'source'))]));
    return ids.flatMap((id) => {
      const memory = byId.get(id);
      return memory ? [memory] : [];
    });
  }
}
