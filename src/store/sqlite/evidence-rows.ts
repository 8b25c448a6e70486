import type { Database, Statement } from 'better-sqlite3';
import { countEvidence, noTrackRecord, type EvidenceRecord, type TrackRecord } from '../../domain/evidence.js';
import type { Outcome } from '../../domain/goal.js';

/** Ids read per statement: SQLite binds at most 32,766 parameters, and a search asks for 100 at most. */
const IDS_PER_READ = 500;

/** Procedural memories' evidence (table lesson_evidence); callers open the transaction. */
export class EvidenceRows {
  private readonly addFrom: Statement;
  private readonly addRecalled: Statement;
  private readonly removeOf: Statement;
  private readonly reads = new Map<number, Statement>();

  constructor(private readonly db: Database) {
    this.addFrom = db.prepare(`INSERT OR IGNORE INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at) VALUES (?, ?, ?, ?, 'from', ?)`);
    // Only for a memory still stored, and once per goal: a goal's lessons recalled again for a later outcome count once.
    this.addRecalled = db.prepare(`INSERT OR IGNORE INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at)
      SELECT m.id, ?, ?, ?, 'recalled', ? FROM memories m
      WHERE m.id = ? AND NOT EXISTS (SELECT 1 FROM lesson_evidence e WHERE e.memory_id = m.id AND e.goal_id = ? AND e.how = 'recalled')`);
    this.removeOf = db.prepare('DELETE FROM lesson_evidence WHERE memory_id = ?');
  }

  /** The outcome's evidence: each lesson it names came from it; each memory in `recalled` was recalled before it. */
  add(outcome: Outcome, recalled: readonly string[]): void {
    for (const id of outcome.lesson_memory_ids) this.addFrom.run(id, outcome.id, outcome.goal_id, outcome.result, outcome.created_at);
    for (const id of recalled) this.addRecalled.run(outcome.id, outcome.goal_id, outcome.result, outcome.created_at, id, outcome.goal_id);
  }

  /** The read of `count` memories' evidence, prepared once per count (a search asks for up to 100). */
  private readFor(count: number): Statement {
    let statement = this.reads.get(count);
    if (!statement) {
      statement = this.db.prepare(`SELECT memory_id, how, result, COUNT(*) AS n FROM lesson_evidence WHERE memory_id IN (${Array(count).fill('?').join(', ')}) GROUP BY memory_id, how, result`);
      this.reads.set(count, statement);
    }
    return statement;
  }

  /** Rows of a backup, those not stored already; returns how many were stored. */
  restore(rows: readonly EvidenceRecord[]): number {
    let stored = 0;
    const insert = this.db.prepare('INSERT OR IGNORE INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const r of rows) stored += insert.run(r.memory_id, r.outcome_id, r.goal_id, r.result, r.how, r.at).changes;
    return stored;
  }

  /** The evidence of memories recalled for goals, by memory and outcome id, streamed; optionally of one namespace's memories. */
  *allRecalled(namespace?: string): Iterable<EvidenceRecord> {
    const rows = (namespace === undefined
      ? this.db.prepare(`SELECT * FROM lesson_evidence WHERE how = 'recalled' ORDER BY memory_id, outcome_id`).iterate()
      : this.db.prepare(`SELECT e.* FROM lesson_evidence e JOIN memories m ON m.id = e.memory_id WHERE e.how = 'recalled' AND m.namespace = ? ORDER BY e.memory_id, e.outcome_id`).iterate(namespace)) as Iterable<EvidenceRecord>;
    yield* rows;
  }

  /** A forgotten memory's evidence goes with it. */
  remove(memoryId: string): void {
    this.removeOf.run(memoryId);
  }

  /** The track record of each memory among `ids` that has evidence: one read of the table's primary key. */
  trackRecords(ids: readonly string[]): Map<string, TrackRecord> {
    const records = new Map<string, TrackRecord>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += IDS_PER_READ) {
      const slice = unique.slice(i, i + IDS_PER_READ);
      const rows = this.readFor(slice.length).all(...slice) as Array<{ memory_id: string; how: string; result: string; n: number }>;
      for (const row of rows) {
        const record = records.get(row.memory_id) ?? noTrackRecord();
        countEvidence(record, row.how, row.result, row.n);
        records.set(row.memory_id, record);
      }
    }
    return records;
  }
}
