import type pg from 'pg';
import { toOutcome, type OutcomeRow } from '../goal-mapping.js';
import { toMemory, type MemoryRow } from '../memory-mapping.js';
import type { EvidenceRecord } from '../../domain/evidence.js';
import type { ExportRecord } from '../store.js';
import type { GoalRecords } from './goal-records.js';
import { isUnavailable } from './pool.js';
import { decoded } from './text-escape.js';

/** Records read per query while exporting. */
const EXPORT_PAGE = 500;

/**
 * Every record of a tenant (or of one namespace), goals then outcomes then
 * memories, each in id order, from one read-only snapshot on a connection
 * of its own, held until the iteration ends, a page at a time.
 */
export async function* exportRecords(pool: pg.Pool, goals: GoalRecords, namespace?: string): AsyncIterable<ExportRecord> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (let after = ''; ; ) {
      const page = await goals.snapshots(client, after, namespace, EXPORT_PAGE);
      for (const goal of page) yield { type: 'goal', goal };
      if (page.length < EXPORT_PAGE) break;
      after = page.at(-1)!.id;
    }
    const byNamespace = namespace === undefined ? '' : 'AND g.namespace = $2';
    for (let after = ''; ; ) {
      const { rows } = await client.query<OutcomeRow>(
        `SELECT o.* FROM outcomes o JOIN goals g ON g.id = o.goal_id WHERE o.id > $1 ${byNamespace} ORDER BY o.id LIMIT ${EXPORT_PAGE}`,
        namespace === undefined ? [after] : [after, namespace],
      );
      for (const row of rows) yield { type: 'outcome', outcome: toOutcome(decoded(row, 'summary')) };
      if (rows.length < EXPORT_PAGE) break;
      after = rows.at(-1)!.id;
    }
    const memoriesIn = namespace === undefined ? '' : 'AND namespace = $2';
    for (let after = ''; ; ) {
      const { rows } = await client.query<MemoryRow>(
        `SELECT * FROM memories WHERE id > $1 ${memoriesIn} ORDER BY id LIMIT ${EXPORT_PAGE}`,
        namespace === undefined ? [after] : [after, namespace],
      );
      for (const row of rows) yield { type: 'memory', memory: toMemory(decoded(row, 'content', 'source')) };
      if (rows.length < EXPORT_PAGE) break;
      after = rows.at(-1)!.id;
    }
    const evidenceIn = namespace === undefined ? '' : 'AND e.memory_id IN (SELECT id FROM memories WHERE namespace = $3)';
    for (let after = ['', '']; ; ) {
      const { rows } = await client.query<EvidenceRecord>(
        `SELECT e.* FROM lesson_evidence e WHERE e.how = 'recalled' AND (e.memory_id, e.outcome_id) > ($1, $2) ${evidenceIn} ORDER BY e.memory_id, e.outcome_id LIMIT ${EXPORT_PAGE}`,
        namespace === undefined ? after : [...after, namespace],
      );
      for (const row of rows) yield { type: 'evidence', evidence: row };
      if (rows.length < EXPORT_PAGE) break;
      after = [rows.at(-1)!.memory_id, rows.at(-1)!.outcome_id];
    }
    await client.query('COMMIT');
  } catch (error) {
    broken = isUnavailable(error);
    throw error;
  } finally {
    // An export stopped early (the reader went away) still ends its snapshot.
    if (!broken) await client.query('ROLLBACK').catch(() => {});
    client.release(broken);
  }
}
