import { goalDoc, stepDoc, type StepGoal } from '../search-doc.js';
import type pg from 'pg';
import type { Goal, GoalSummary, Outcome, PlanRevision } from '../../domain/goal.js';
import type { IndexedText } from '../../domain/indexed-text.js';
import { toOutcome, toRecord, toStep, type GoalRow, type OutcomeRow, type StepRow } from '../goal-mapping.js';
import { injectionColumn } from '../memory-mapping.js';
import { parseJson } from '../json.js';
import type { GoalListQuery, GoalRecord, GoalSnapshot, GoalUpdate, PlanRecord } from '../store.js';
import type { DocIndex } from './doc-index.js';
import type { WriteTx } from './write-tx.js';
import { query } from './pool.js';
import { decoded, toDb } from './text-escape.js';

/** How many of a goal's outcomes get_goal shows (the newest), as in the SQLite backend. */
const MAX_OUTCOMES_SHOWN = 20;

type Db = pg.Pool | pg.PoolClient;
type Revision = { version: number; reason: string | null; created_at: string };

/** Free-text columns of the rows these tables give (see text-escape.ts). */
const FREE_TEXT = ['title', 'description', 'detail', 'result_note', 'reason', 'summary', 'source'] as const;

/** Through pool.ts's query(), so a lost database is the retryable tool error on every read. */
async function rows<R extends pg.QueryResultRow>(db: Db, sql: string, params: unknown[] = []): Promise<R[]> {
  return (await query<R>(db, sql, params)).map((row) => decoded(row, ...(FREE_TEXT.filter((column) => column in row) as Array<keyof R>)));
}

/** Goals, plan revisions, steps and outcomes (the same rules as the SQLite backend's goal-rows.ts); callers open the transaction. */
export class GoalRecords {
  constructor(private readonly docs: DocIndex) {}

  async create(tx: WriteTx, goal: GoalRecord, indexed: IndexedText, plan: PlanRecord | null): Promise<void> {
    const docId = await this.docs.add(tx, goalDoc(goal), indexed);
    await tx.query(
      `INSERT INTO goals (id, doc_id, namespace, title, description, success_criteria, priority, status, tags, metadata,
         parent_goal_id, plan_version, source, created_at, updated_at, origin, origin_ref, written_by, injection)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14, $15, $16, $17, $18)`,
      [goal.id, docId, goal.namespace, toDb(goal.title), toDb(goal.description), JSON.stringify(goal.success_criteria), goal.priority, goal.status,
        JSON.stringify(goal.tags), JSON.stringify(goal.metadata), goal.parent_goal_id, toDb(goal.source), goal.created_at, goal.updated_at,
        goal.origin, goal.origin_ref, goal.written_by, injectionColumn(goal.injection)],
    );
    if (plan) await this.addPlan(tx, { id: goal.id, namespace: goal.namespace, plan_version: 0, tags: goal.tags, origin: goal.origin, injection: goal.injection }, plan);
  }

  private async addPlan(tx: WriteTx, goal: StepGoal & { plan_version: number }, plan: PlanRecord): Promise<void> {
    // Steps of the plan being replaced stay in the history but leave search.
    const old = await tx.query<{ doc_id: number }>('SELECT doc_id FROM plan_steps WHERE goal_id = $1 AND plan_version = $2', [goal.id, goal.plan_version]);
    for (const step of old) await this.docs.setHidden(tx, step.doc_id, true);
    await tx.query('INSERT INTO plan_revisions (goal_id, version, reason, created_at) VALUES ($1, $2, $3, $4)', [goal.id, plan.version, toDb(plan.reason), plan.created_at]);
    for (const step of plan.steps) {
      const docId = await this.addStepDoc(tx, goal, step.id, plan.created_at, false, step.indexed);
      await tx.query(
        `INSERT INTO plan_steps (id, doc_id, goal_id, plan_version, position, title, detail, status, result_note, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', NULL, $8)`,
        [step.id, docId, goal.id, plan.version, step.position, toDb(step.title), toDb(step.detail), plan.created_at],
      );
    }
    await tx.query('UPDATE goals SET plan_version = $1 WHERE id = $2', [plan.version, goal.id]);
  }

  /** Index a step (see stepDoc). */
  private addStepDoc(tx: WriteTx, goal: StepGoal, stepId: string, planCreatedAt: string, hidden: boolean, indexed: IndexedText): Promise<number> {
    return this.docs.add(tx, stepDoc(goal, stepId, planCreatedAt, hidden), indexed);
  }

  async update(tx: WriteTx, change: GoalUpdate): Promise<void> {
    // Locked: two servers updating one goal apply their changes one after the other.
    const [row] = await tx.query<GoalRow>('SELECT * FROM goals WHERE id = $1 FOR UPDATE', [change.id]);
    if (!row) return;
    const next: GoalRecord = { ...toRecord(row), ...change.fields, updated_at: change.updated_at };
    await tx.query(
      `UPDATE goals SET title = $1, description = $2, success_criteria = $3, priority = $4, status = $5, tags = $6, metadata = $7, updated_at = $8
       WHERE id = $9`,
      [toDb(next.title), toDb(next.description), JSON.stringify(next.success_criteria), next.priority, next.status, JSON.stringify(next.tags),
        JSON.stringify(next.metadata), next.updated_at, next.id],
    );
    if (change.indexed) await this.docs.reindex(tx, row.doc_id, change.indexed, next.tags, false, 'goal');
    for (const step of change.steps ?? []) {
      await tx.query('UPDATE plan_steps SET status = $1, result_note = COALESCE($2, result_note), updated_at = $3 WHERE id = $4', [
        step.status,
        toDb(step.result_note),
        change.updated_at,
        step.id,
      ]);
    }
    if (change.plan) await this.addPlan(tx, { id: row.id, namespace: row.namespace, plan_version: row.plan_version, tags: next.tags, origin: next.origin, injection: next.injection }, change.plan);
  }

  async insertOutcome(tx: WriteTx, outcome: Outcome): Promise<void> {
    await tx.query(
      `INSERT INTO outcomes (id, goal_id, step_id, result, summary, lessons, metrics, summary_memory_id, lesson_memory_ids, created_at, origin, origin_ref, written_by, injection)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [outcome.id, outcome.goal_id, outcome.step_id, outcome.result, toDb(outcome.summary), JSON.stringify(outcome.lessons), JSON.stringify(outcome.metrics),
        outcome.summary_memory_id, JSON.stringify(outcome.lesson_memory_ids), outcome.created_at, outcome.origin, outcome.origin_ref, outcome.written_by, injectionColumn(outcome.injection)],
    );
  }

  /** Store a goal as a backup holds it (see the SQLite backend's GoalRows.restore); false when the id is stored already. */
  async restore(tx: WriteTx, goal: GoalSnapshot, indexed: IndexedText, stepTexts: ReadonlyMap<string, IndexedText>): Promise<boolean> {
    if ((await tx.query('SELECT 1 FROM goals WHERE id = $1', [goal.id])).length > 0) return false;
    const { plan_version: current, plans, ...record } = goal;
    await this.create(tx, record, indexed, null);
    for (const plan of plans) {
      await tx.query('INSERT INTO plan_revisions (goal_id, version, reason, created_at) VALUES ($1, $2, $3, $4)', [goal.id, plan.version, toDb(plan.reason), plan.created_at]);
      for (const step of plan.steps) {
        // Steps of earlier plans stay out of search, as revising a plan leaves them.
        const docId = await this.addStepDoc(tx, goal, step.id, plan.created_at, plan.version !== current, stepTexts.get(step.id)!);
        await tx.query(
          `INSERT INTO plan_steps (id, doc_id, goal_id, plan_version, position, title, detail, status, result_note, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [step.id, docId, goal.id, plan.version, step.position, toDb(step.title), toDb(step.detail), step.status, toDb(step.result_note), step.updated_at],
        );
      }
    }
    await tx.query('UPDATE goals SET plan_version = $1 WHERE id = $2', [current, goal.id]);
    return true;
  }

  async restoreOutcome(tx: WriteTx, outcome: Outcome): Promise<boolean> {
    if ((await tx.query('SELECT 1 FROM outcomes WHERE id = $1', [outcome.id])).length > 0) return false;
    await this.insertOutcome(tx, outcome);
    return true;
  }

  async get(db: Db, id: string): Promise<Goal | undefined> {
    const [row] = await rows<GoalRow>(db, 'SELECT * FROM goals WHERE id = $1', [id]);
    if (!row) return undefined;
    const steps = await rows<StepRow>(db, 'SELECT * FROM plan_steps WHERE goal_id = $1 ORDER BY plan_version, position', [id]);
    const revisions = await rows<Revision>(db, 'SELECT version, reason, created_at FROM plan_revisions WHERE goal_id = $1 ORDER BY version', [id]);
    // The newest outcomes only: a goal retried for months must not flood a model's context.
    const outcomes = await rows<OutcomeRow>(
      db,
      `SELECT * FROM (SELECT * FROM outcomes WHERE goal_id = $1 ORDER BY created_at DESC, id DESC LIMIT ${MAX_OUTCOMES_SHOWN}) o ORDER BY created_at, id`,
      [id],
    );
    const [total] = await rows<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM outcomes WHERE goal_id = $1', [id]);
    const history: PlanRevision[] = revisions
      .filter((rev) => rev.version !== row.plan_version)
      .map((rev) => ({
        version: rev.version,
        created_at: rev.created_at,
        reason: rev.reason,
        steps: steps.filter((s) => s.plan_version === rev.version).map((s) => ({ id: s.id, title: s.title, status: s.status })),
      }));
    const record = toRecord(row);
    return {
      ...(await this.summary(db, row)),
      description: record.description,
      success_criteria: record.success_criteria,
      metadata: record.metadata,
      source: record.source,
      origin: record.origin,
      origin_ref: record.origin_ref,
      written_by: record.written_by,
      injection: record.injection,
      steps: steps.filter((s) => s.plan_version === row.plan_version).map((s) => toStep(s)),
      plan_history: history,
      outcomes: outcomes.map(toOutcome),
      outcomes_total: total!.n,
    };
  }

  async list(db: Db, query: GoalListQuery): Promise<GoalSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.namespace !== null) where.push(`namespace = $${params.push(query.namespace)}`);
    if (query.statuses && query.statuses.length > 0) where.push(`status = ANY($${params.push([...query.statuses])}::text[])`);
    if (query.parent_goal_id !== undefined) where.push(`parent_goal_id = $${params.push(query.parent_goal_id)}`);
    const sql = `SELECT * FROM goals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, updated_at DESC
      LIMIT $${params.push(query.limit)}`;
    const found = await rows<GoalRow>(db, sql, params);
    return Promise.all(found.map((row) => this.summary(db, row)));
  }

  async activeGoalTitles(db: Db, namespace: string): Promise<Array<{ id: string; title: string; description: string | null }>> {
    return rows(db, "SELECT id, title, description FROM goals WHERE namespace = $1 AND status = 'active' ORDER BY updated_at DESC LIMIT 500", [namespace]);
  }

  /** Goals after `afterId`, by id, each with every plan revision and step as stored: a page of a backup. */
  async snapshots(db: Db, afterId: string, namespace: string | undefined, limit: number): Promise<GoalSnapshot[]> {
    const found = namespace === undefined
      ? await rows<GoalRow>(db, 'SELECT * FROM goals WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit])
      : await rows<GoalRow>(db, 'SELECT * FROM goals WHERE id > $1 AND namespace = $2 ORDER BY id LIMIT $3', [afterId, namespace, limit]);
    const out: GoalSnapshot[] = [];
    for (const row of found) {
      const steps = await rows<StepRow>(db, 'SELECT * FROM plan_steps WHERE goal_id = $1 ORDER BY plan_version, position', [row.id]);
      const revisions = await rows<Revision>(db, 'SELECT version, reason, created_at FROM plan_revisions WHERE goal_id = $1 ORDER BY version', [row.id]);
      const plans = revisions.map((rev) => ({
        version: rev.version,
        reason: rev.reason,
        created_at: rev.created_at,
        steps: steps.filter((s) => s.plan_version === rev.version).map((s) => toStep(s)),
      }));
      out.push({ ...toRecord(row), plan_version: row.plan_version, plans });
    }
    return out;
  }

  private async summary(db: Db, row: GoalRow): Promise<GoalSummary> {
    const [progress] = await rows<{ total: number; done: number }>(
      db,
      `SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE status IN ('done', 'skipped')) AS done
       FROM plan_steps WHERE goal_id = $1 AND plan_version = $2`,
      [row.id, row.plan_version],
    );
    return {
      id: row.id,
      namespace: row.namespace,
      title: row.title,
      status: row.status,
      priority: row.priority,
      tags: parseJson<string[]>(row.tags, []),
      parent_goal_id: row.parent_goal_id,
      plan_version: row.plan_version,
      steps_total: progress!.total,
      steps_done: progress!.done,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}
