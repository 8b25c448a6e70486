import { goalDoc, stepDoc, type StepGoal } from '../search-doc.js';
import type { Database, Statement } from 'better-sqlite3';
import type { Goal, GoalSummary, Outcome, PlanRevision, Step } from '../../domain/goal.js';
import type { IndexedText } from '../../domain/indexed-text.js';
import type { GoalListQuery, GoalRecord, GoalSnapshot, GoalUpdate, PlanRecord } from '../store.js';
import { toOutcome, toRecord, toStep, type GoalRow, type OutcomeRow, type StepRow } from '../goal-mapping.js';
import { injectionColumn } from '../memory-mapping.js';
import { parseJson } from '../json.js';
import type { SearchDocs } from './search-docs.js';

/** How many of a goal's outcomes get_goal shows (the newest). */
export const MAX_OUTCOMES_SHOWN = 20;

/** Goals, plan revisions, steps and outcomes; callers open the transaction. */
export class GoalRows {
  private readonly insertGoal: Statement;
  private readonly byId: Statement;
  private readonly insertRevision: Statement;
  private readonly insertStep: Statement;
  private readonly stepsOf: Statement;
  private readonly revisionsOf: Statement;
  private readonly outcomesOf: Statement;
  private readonly outcomeCount: Statement;
  private readonly insertOutcomeStmt: Statement;
  private readonly stepById: Statement;
  private readonly updateStep: Statement;
  private readonly activeTitles: Statement;
  private readonly progress: Statement;
  private readonly insertRestoredStep: Statement;
  private readonly outcomeById: Statement;

  constructor(private readonly db: Database, private readonly docs: SearchDocs) {
    this.insertGoal = db.prepare(`INSERT INTO goals
      (id, doc_id, namespace, title, description, success_criteria, priority, status, tags, metadata,
       parent_goal_id, plan_version, source, created_at, updated_at, origin, origin_ref, written_by, injection)
      VALUES (@id, @doc_id, @namespace, @title, @description, @success_criteria, @priority, @status, @tags, @metadata,
       @parent_goal_id, 0, @source, @created_at, @updated_at, @origin, @origin_ref, @written_by, @injection)`);
    this.byId = db.prepare('SELECT * FROM goals WHERE id = ?');
    this.insertRevision = db.prepare('INSERT INTO plan_revisions (goal_id, version, reason, created_at) VALUES (?, ?, ?, ?)');
    this.insertStep = db.prepare(`INSERT INTO plan_steps
      (id, doc_id, goal_id, plan_version, position, title, detail, status, result_note, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?)`);
    this.stepsOf = db.prepare('SELECT * FROM plan_steps WHERE goal_id = ? ORDER BY plan_version, position');
    this.revisionsOf = db.prepare('SELECT * FROM plan_revisions WHERE goal_id = ? ORDER BY version');
    // The newest outcomes only: a goal retried for months must not flood a model's context.
    this.outcomesOf = db.prepare(
      `SELECT * FROM (SELECT * FROM outcomes WHERE goal_id = ? ORDER BY created_at DESC, id DESC LIMIT ${MAX_OUTCOMES_SHOWN})
       ORDER BY created_at, id`,
    );
    this.outcomeCount = db.prepare('SELECT COUNT(*) AS n FROM outcomes WHERE goal_id = ?');
    this.insertOutcomeStmt = db.prepare(`INSERT INTO outcomes
      (id, goal_id, step_id, result, summary, lessons, metrics, summary_memory_id, lesson_memory_ids, created_at, origin, origin_ref, written_by, injection)
      VALUES (@id, @goal_id, @step_id, @result, @summary, @lessons, @metrics, @summary_memory_id, @lesson_memory_ids, @created_at, @origin, @origin_ref, @written_by, @injection)`);
    this.stepById = db.prepare('SELECT * FROM plan_steps WHERE id = ?');
    this.updateStep = db.prepare('UPDATE plan_steps SET status = ?, result_note = COALESCE(?, result_note), updated_at = ? WHERE id = ?');
    this.activeTitles = db.prepare(
      "SELECT id, title, description FROM goals WHERE namespace = ? AND status = 'active' ORDER BY updated_at DESC LIMIT 500",
    );
    this.progress = db.prepare(`SELECT COUNT(*) AS total,
      COALESCE(SUM(status IN ('done', 'skipped')), 0) AS done
      FROM plan_steps WHERE goal_id = ? AND plan_version = ?`);
    this.insertRestoredStep = db.prepare(`INSERT INTO plan_steps
      (id, doc_id, goal_id, plan_version, position, title, detail, status, result_note, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.outcomeById = db.prepare('SELECT 1 FROM outcomes WHERE id = ?');
  }

  create(goal: GoalRecord, indexed: IndexedText, plan: PlanRecord | null): void {
    const docId = this.docs.add(goalDoc(goal), indexed);
    this.insertGoal.run({
      ...goal,
      doc_id: docId,
      success_criteria: JSON.stringify(goal.success_criteria),
      tags: JSON.stringify(goal.tags),
      metadata: JSON.stringify(goal.metadata),
      injection: injectionColumn(goal.injection),
    });
    if (plan) this.addPlan({ ...goal, plan_version: 0 }, plan);
  }

  private addPlan(goal: StepGoal & { plan_version: number }, plan: PlanRecord): void {
    // Steps of the plan being replaced stay in the history but leave search.
    for (const old of this.stepsOf.all(goal.id) as StepRow[]) {
      if (old.plan_version === goal.plan_version) this.docs.setHidden(old.doc_id, true);
    }
    this.insertRevision.run(goal.id, plan.version, plan.reason, plan.created_at);
    for (const step of plan.steps) {
      const docId = this.addStepDoc(goal, step.id, plan.created_at, false, step.indexed);
      this.insertStep.run(step.id, docId, goal.id, plan.version, step.position, step.title, step.detail, plan.created_at);
    }
    this.db.prepare('UPDATE goals SET plan_version = ? WHERE id = ?').run(plan.version, goal.id);
  }

  /** Index a step (see stepDoc). */
  private addStepDoc(goal: StepGoal, stepId: string, planCreatedAt: string, hidden: boolean, indexed: IndexedText): number {
    return this.docs.add(stepDoc(goal, stepId, planCreatedAt, hidden), indexed);
  }

  update(change: GoalUpdate): void {
    const row = this.byId.get(change.id) as GoalRow | undefined;
    if (!row) return;
    const current = toRecord(row);
    const next: GoalRecord = { ...current, ...change.fields, updated_at: change.updated_at };
    this.db
      .prepare(`UPDATE goals SET title = @title, description = @description, success_criteria = @success_criteria,
        priority = @priority, status = @status, tags = @tags, metadata = @metadata, updated_at = @updated_at WHERE id = @id`)
      .run({
        ...next,
        success_criteria: JSON.stringify(next.success_criteria),
        tags: JSON.stringify(next.tags),
        metadata: JSON.stringify(next.metadata),
      });
    if (change.indexed) this.docs.reindex(row.doc_id, change.indexed, next.tags, false, 'goal');
    for (const step of change.steps ?? []) this.updateStep.run(step.status, step.result_note, change.updated_at, step.id);
    if (change.plan) this.addPlan({ id: row.id, namespace: row.namespace, plan_version: row.plan_version, tags: next.tags, origin: next.origin, injection: next.injection }, change.plan);
  }

  /** Goals after `afterId`, by id, each with every plan revision and step as stored: a page of a backup. */
  snapshots(afterId: string, namespace: string | undefined, limit: number): GoalSnapshot[] {
    const rows = (namespace === undefined
      ? this.db.prepare('SELECT * FROM goals WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit)
      : this.db.prepare('SELECT * FROM goals WHERE id > ? AND namespace = ? ORDER BY id LIMIT ?').all(afterId, namespace, limit)) as GoalRow[];
    return rows.map((row) => {
      const steps = this.stepsOf.all(row.id) as StepRow[];
      const plans = (this.revisionsOf.all(row.id) as Array<{ version: number; reason: string | null; created_at: string }>).map((rev) => ({
        version: rev.version,
        reason: rev.reason,
        created_at: rev.created_at,
        steps: steps.filter((s) => s.plan_version === rev.version).map((s) => toStep(s)),
      }));
      return { ...toRecord(row), plan_version: row.plan_version, plans };
    });
  }

  /** Every outcome, by id, streamed; optionally those of one namespace's goals. */
  *allOutcomes(namespace?: string): Iterable<Outcome> {
    const rows = (namespace === undefined
      ? this.db.prepare('SELECT * FROM outcomes ORDER BY id').iterate()
      : this.db.prepare('SELECT o.* FROM outcomes o JOIN goals g ON g.id = o.goal_id WHERE g.namespace = ? ORDER BY o.id').iterate(namespace)) as Iterable<OutcomeRow>;
    for (const row of rows) yield toOutcome(row);
  }

  /**
   * Store a goal as a backup holds it: the same ids, every plan revision with
   * its steps' statuses, notes and times; steps of earlier plans hidden from
   * search, as revising a plan leaves them. False when the id is stored already.
   */
  restore(goal: GoalSnapshot, indexed: IndexedText, stepTexts: ReadonlyMap<string, IndexedText>): boolean {
    if (this.byId.get(goal.id)) return false;
    const { plan_version: current, plans, ...record } = goal;
    this.create(record, indexed, null);
    for (const plan of plans) {
      this.insertRevision.run(goal.id, plan.version, plan.reason, plan.created_at);
      for (const step of plan.steps) {
        // Steps of earlier plans stay out of search, as revising a plan leaves them.
        const docId = this.addStepDoc(goal, step.id, plan.created_at, plan.version !== current, stepTexts.get(step.id)!);
        this.insertRestoredStep.run(step.id, docId, goal.id, plan.version, step.position, step.title, step.detail, step.status, step.result_note, step.updated_at);
      }
    }
    this.db.prepare('UPDATE goals SET plan_version = ? WHERE id = ?').run(current, goal.id);
    return true;
  }

  /** Store an outcome unless its id is stored already; true when stored. */
  restoreOutcome(outcome: Outcome): boolean {
    if (this.outcomeById.get(outcome.id)) return false;
    this.insertOutcome(outcome);
    return true;
  }

  insertOutcome(outcome: Outcome): void {
    this.insertOutcomeStmt.run({
      ...outcome,
      lessons: JSON.stringify(outcome.lessons),
      metrics: JSON.stringify(outcome.metrics),
      lesson_memory_ids: JSON.stringify(outcome.lesson_memory_ids),
      injection: injectionColumn(outcome.injection),
    });
  }

  step(id: string): (Step & { goal_id: string; plan_version: number }) | undefined {
    const row = this.stepById.get(id) as (StepRow & { goal_id: string }) | undefined;
    return row ? { ...toStep(row), goal_id: row.goal_id, plan_version: row.plan_version } : undefined;
  }

  get(id: string): Goal | undefined {
    const row = this.byId.get(id) as GoalRow | undefined;
    if (!row) return undefined;
    const steps = this.stepsOf.all(id) as StepRow[];
    const revisions = this.revisionsOf.all(id) as Array<{ version: number; reason: string | null; created_at: string }>;
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
      ...this.summary(row),
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
      outcomes: (this.outcomesOf.all(id) as OutcomeRow[]).map(toOutcome),
      outcomes_total: (this.outcomeCount.get(id) as { n: number }).n,
    };
  }

  list(query: GoalListQuery): GoalSummary[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.namespace !== null) {
      where.push('namespace = ?');
      params.push(query.namespace);
    }
    if (query.statuses && query.statuses.length > 0) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
      params.push(...query.statuses);
    }
    if (query.parent_goal_id !== undefined) {
      where.push('parent_goal_id = ?');
      params.push(query.parent_goal_id);
    }
    const sql = `SELECT * FROM goals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, updated_at DESC
      LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit) as GoalRow[]).map((row) => this.summary(row));
  }

  activeGoalTitles(namespace: string): Array<{ id: string; title: string; description: string | null }> {
    return this.activeTitles.all(namespace) as Array<{ id: string; title: string; description: string | null }>;
  }

  private summary(row: GoalRow): GoalSummary {
    const progress = this.progress.get(row.id, row.plan_version) as { total: number; done: number };
    return {
      id: row.id,
      namespace: row.namespace,
      title: row.title,
      status: row.status,
      priority: row.priority,
      tags: parseJson<string[]>(row.tags, []),
      parent_goal_id: row.parent_goal_id,
      plan_version: row.plan_version,
      steps_total: progress.total,
      steps_done: progress.done,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}
