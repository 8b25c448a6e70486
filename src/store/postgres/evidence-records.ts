import type pg from 'pg';
import { countEvidence, noTrackRecord, type EvidenceRecord, type TrackRecord } from '../../domain/evidence.js';
import type { Outcome } from '../../domain/goal.js';
import type { WriteTx } from './write-tx.js';
import { query } from './pool.js';

/** Procedural memories' evidence (table lesson_evidence), as in the SQLite backend's evidence-rows.ts; callers open the transaction. */
export const evidenceRecords = {
  /** The outcome's evidence: each lesson it names came from it; each memory in `recalled` (still stored, not yet recalled for the goal) was recalled before it. */
  async add(tx: WriteTx, outcome: Outcome, recalled: readonly string[]): Promise<void> {
    const values = [outcome.id, outcome.goal_id, outcome.result, outcome.created_at];
    if (outcome.lesson_memory_ids.length > 0) {
      await tx.query(
        `INSERT INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at)
         SELECT DISTINCT id, $2, $3, $4, 'from', $5 FROM unnest($1::text[]) AS x(id) ON CONFLICT DO NOTHING`,
        [[...outcome.lesson_memory_ids], ...values],
      );
    }
    if (recalled.length > 0) {
      await tx.query(
        `INSERT INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at)
         SELECT m.id, $2, $3, $4, 'recalled', $5 FROM memories m
         WHERE m.id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM lesson_evidence e WHERE e.memory_id = m.id AND e.goal_id = $3 AND e.how = 'recalled')
         ON CONFLICT DO NOTHING`,
        [[...recalled], ...values],
      );
    }
  },

  /** Rows of a backup, those not stored already; returns how many were stored. */
  async restore(tx: WriteTx, rows: readonly EvidenceRecord[]): Promise<number> {
    if (rows.length === 0) return 0;
    const column = <K extends keyof EvidenceRecord>(key: K): Array<EvidenceRecord[K]> => rows.map((r) => r[key]);
    const stored = await tx.query(
      `INSERT INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) ON CONFLICT DO NOTHING RETURNING 1`,
      [column('memory_id'), column('outcome_id'), column('goal_id'), column('result'), column('how'), column('at')],
    );
    return stored.length;
  },

  /** A forgotten memory's evidence goes with it. */
  async remove(tx: WriteTx, memoryId: string): Promise<void> {
    await tx.query('DELETE FROM lesson_evidence WHERE memory_id = $1', [memoryId]);
  },

  /** The track record of each memory among `ids` that has evidence: one read of the table's primary key. */
  async trackRecords(db: pg.Pool, ids: readonly string[]): Promise<Map<string, TrackRecord>> {
    const records = new Map<string, TrackRecord>();
    if (ids.length === 0) return records;
    const rows = await query<{ memory_id: string; how: string; result: string; n: number }>(
      db,
      'SELECT memory_id, how, result, COUNT(*)::int AS n FROM lesson_evidence WHERE memory_id = ANY($1::text[]) GROUP BY memory_id, how, result',
      [[...new Set(ids)]],
    );
    for (const row of rows) {
      const record = records.get(row.memory_id) ?? noTrackRecord();
      countEvidence(record, row.how, row.result, row.n);
      records.set(row.memory_id, record);
    }
    return records;
  },
};
