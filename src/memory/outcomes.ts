import { z } from 'zod';
import { MemoryError, notFound } from '../domain/errors.js';
import { described, Id, IdempotencyKey, Metadata, stringList } from '../domain/fields.js';
import { Lesson, MAX_LESSONS, OutcomeResult, type Goal, type GoalStatus, type MissedLesson, type Outcome, type Step, type StepStatus } from '../domain/goal.js';
import type { Reinforcement } from '../domain/evidence.js';
import { BareProvenanceInput } from '../domain/provenance.js';
import { newId } from '../domain/ids.js';
import { freshMemory, type Memory, type NewMemoryFields } from '../domain/memory.js';
import type { GoalUpdate } from '../store/store.js';
import type { Caller, MemoryContext } from './context.js';
import { claimMaking } from './idempotency.js';
import { SecretGuard, type RedactedField } from '../firewall/secret-guard.js';
import { injectionAction, judgeInjection, stringsOf } from '../firewall/injection-guard.js';
import { requireGoal } from './goals.js';
import { checkJsonObject, checkTextSize } from './limits.js';
import { provenanceFor } from './provenance.js';
import { findSameLesson } from './lesson-merge.js';
import { decidesGoal, recalledFor } from './recall.js';
import { reflectOn, type Reflection } from './reflection.js';
import { memorySearchText } from './search-text.js';

export const RecordOutcomeInput = z.strictObject({
  goal_id: described(Id, 'The goal.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  step_id: described(Id.optional(), 'A step of the current plan, for a step\'s outcome.', '01JD3Z6Q6H8W1V8N2X4C5B7E9G'),
  result: described(OutcomeResult, 'How it went.', 'failure'),
  summary: described(z.string().trim().min(1), 'What happened, in a few sentences.', 'The export timed out for accounts with over 10k invoices.'),
  lessons: described(
    stringList(Lesson, { max: MAX_LESSONS }).default([]),
    'What to do or avoid next time, one per item.',
    ['Stream large CSV exports instead of building them in memory.'],
  ),
  metrics: described(Metadata.default({}), 'Numbers or facts worth keeping (JSON, up to 16 KiB).', { duration_s: 42, rows: 12000 }),
  ...BareProvenanceInput,
  update_status: described(
    z.boolean().default(true),
    'Move the goal or step status with the result (partial: stays active, or in progress).',
    true,
  ),
  idempotency_key: IdempotencyKey,
});
export type RecordOutcomeInput = z.infer<typeof RecordOutcomeInput>;

export interface RecordOutcomeResult {
  goal: Goal;
  outcome_id: string;
  summary_memory_id: string;
  lesson_memory_ids: string[];
  next_step: Step | null;
  /** Fields whose secrets were stored as marks; absent when none. */
  redacted?: RedactedField[];
  /** Lessons that said what an existing lesson of the namespace says: that one was strengthened instead of stored again (its id is in lesson_memory_ids). */
  merged_lesson_ids?: string[];
  /** Lessons held for review (instructions aimed at a model, from web, tool or import text): stored, not searchable until approved; absent when none. */
  held?: OutcomeInjectionNote[];
  /** The summary or lessons stored with a flag (the summary, the outcome's own record, is never held); absent when none. */
  flagged?: OutcomeInjectionNote[];
  /** After a failure or partial result (see reflection.ts). */
  missed_lessons?: MissedLesson[];
  reflection_note?: string;
}

/** A field of the outcome (summary, lessons[i]) the injection detector flagged, the memory it became and the signals found. */
export interface OutcomeInjectionNote {
  field: string;
  id: string;
  signals: string[];
}

const GOAL_STATUS_AFTER: Record<OutcomeResult, GoalStatus> = { success: 'achieved', failure: 'failed', partial: 'active' };
const STEP_STATUS_AFTER: Record<OutcomeResult, StepStatus> = { success: 'done', failure: 'failed', partial: 'in_progress' };


function outcomeMemory(base: Omit<NewMemoryFields, 'id' | 'layer' | 'kind' | 'content' | 'importance'>, fields: Pick<Memory, 'layer' | 'kind' | 'content' | 'importance'> & Partial<Pick<Memory, 'injection' | 'held'>>, now: string): Memory {
  return freshMemory({ ...base, ...fields, id: newId() }, now);
}

/**
 * Record how a goal or step turned out. The summary becomes an episodic memory
 * and each lesson a procedural one, all linked to the goal and indexed with its
 * title, so a later search for a similar goal finds what worked and what did
 * not. Statuses move with it, in the same transaction.
 */
export async function recordOutcome(ctx: MemoryContext, caller: Caller, input: RecordOutcomeInput): Promise<RecordOutcomeResult> {
  const goal = await requireGoal(ctx, input.goal_id);
  const step = input.step_id === undefined ? undefined : goal.steps.find((s) => s.id === input.step_id);
  if (input.step_id !== undefined && !step) {
    throw notFound('step', input.step_id, `it is not in the current plan of goal ${goal.id}; call get_goal to see the step ids`);
  }
  const guard = new SecretGuard(ctx.secrets, goal.namespace);
  input = {
    ...input,
    summary: await guard.text('summary', input.summary),
    lessons: await Promise.all(input.lessons.map((lesson, i) => guard.text(`lessons[${i}]`, lesson))),
    metrics: await guard.json('metrics', input.metrics),
  };
  // The outcome's, and its summary's and new lessons' (a lesson merged into an existing one leaves that one's as it was).
  const provenance = await provenanceFor(guard, caller, input);
  checkTextSize('summary', input.summary, ctx.limits.maxContentBytes);
  input.lessons.forEach((lesson, i) => checkTextSize(`lessons[${i}]`, lesson, ctx.limits.maxContentBytes));
  checkJsonObject('metrics', input.metrics, ctx.limits.maxMetadataBytes);
  if (new Set(input.lessons).size !== input.lessons.length) throw new MemoryError('invalid_input', 'lessons contains the same lesson twice');

  const now = ctx.now();
  const outcomeId = newId();
  const base = {
    tags: [...new Set([...goal.tags, `outcome:${input.result}`])],
    metadata: { outcome_id: outcomeId, result: input.result, ...(step ? { step_id: step.id } : {}) },
    namespace: goal.namespace,
    source: caller.clientName,
    goal_id: goal.id,
    ...provenance,
  };
  const scope = { confined: caller.confined === true, ...(caller.signal ? { signal: caller.signal } : {}) };
  // The reflection's search runs while the lessons are compared and the outcome is embedded and written (it leaves the goal's own lessons out).
  const reflection = withReflection(ctx, goal, input.result, input.lessons.length, scope);
  // So does the audit scan for what the caller recalled, when this outcome decides the goal (the lessons' evidence).
  const recalled = decidesGoal({ step_id: step?.id ?? null, result: input.result }) && caller.principalId !== undefined ? withRecalled(ctx, goal, caller.principalId) : Promise.resolve([]);
  // Instructions aimed at a model: the summary (with the metrics) is the outcome's own record, only ever flagged; a lesson may be held.
  const action = injectionAction(ctx.injections, goal.namespace, provenance.origin);
  const summaryVerdict = judgeInjection(action, 'summary', goal.namespace, [input.summary, ...stringsOf(input.metrics)], true);
  const lessonVerdicts = input.lessons.map((lesson, i) => judgeInjection(action, `lessons[${i}]`, goal.namespace, [lesson]));
  const summary = outcomeMemory(base, { layer: 'episodic', kind: 'outcome', content: input.summary, importance: 0.6, ...summaryVerdict }, now);
  const held: OutcomeInjectionNote[] = [];
  const flagged: OutcomeInjectionNote[] = summaryVerdict.injection?.length ? [{ field: 'summary', id: summary.id, signals: summaryVerdict.injection }] : [];
  // A lesson the namespace holds already (said in other words) strengthens that one instead of being stored again; a held one never does.
  const same = await Promise.all(input.lessons.map((lesson, i) => (lessonVerdicts[i]!.held ? undefined : findSameLesson(ctx, goal.namespace, lesson, scope))));
  const lessonIds: string[] = [];
  const lessons: Memory[] = [];
  const reinforced: Reinforcement[] = [];
  input.lessons.forEach((lesson, i) => {
    const existing = same[i];
    if (existing && !lessonIds.includes(existing)) {
      lessonIds.push(existing);
      reinforced.push({ memory_id: existing, outcome_id: outcomeId, result: input.result, at: now });
      return;
    }
    const verdict = lessonVerdicts[i]!;
    const memory = outcomeMemory(base, { layer: 'procedural', kind: 'lesson', content: lesson, importance: input.result === 'success' ? 0.6 : 0.7, ...verdict }, now);
    if (verdict.injection?.length) (verdict.held ? held : flagged).push({ field: `lessons[${i}]`, id: memory.id, signals: verdict.injection });
    lessonIds.push(memory.id);
    lessons.push(memory);
  });
  const context = step ? `${goal.title}\n${step.title}` : goal.title;
  const memories = [summary, ...lessons];

  const outcome: Outcome = {
    id: outcomeId,
    goal_id: goal.id,
    step_id: step?.id ?? null,
    result: input.result,
    summary: input.summary,
    // A held lesson's text is in its memory alone, which no one but an admin reads until it is approved.
    lessons: input.lessons.filter((_, i) => !lessonVerdicts[i]!.held),
    // Its own verdict: the signals found in its summary, metrics and lessons (flagged, never held).
    injection: summaryVerdict.injection === null ? null : [...new Set([summaryVerdict.injection, ...lessonVerdicts.map((v) => v.injection ?? [])].flat())],
    metrics: input.metrics,
    summary_memory_id: summary.id,
    lesson_memory_ids: lessonIds,
    created_at: now,
    ...provenance,
  };
  const change: GoalUpdate = { id: goal.id, updated_at: now };
  if (input.update_status && step) {
    change.steps = [{ id: step.id, status: STEP_STATUS_AFTER[input.result], result_note: input.summary }];
  } else if (input.update_status) {
    change.fields = { status: GOAL_STATUS_AFTER[input.result] };
  }
  const indexed = await ctx.indexer.index(memories.map((m) => memorySearchText(m.content, context)));
  const merged = reinforced.map((r) => r.memory_id);
  const made: OutcomeWrite = {
    goal_id: goal.id,
    outcome_id: outcome.id,
    summary_memory_id: summary.id,
    lesson_memory_ids: outcome.lesson_memory_ids,
    redacted: guard.redacted,
    ...(merged.length ? { merged_lesson_ids: merged } : {}),
    ...(held.length ? { held } : {}),
    ...(flagged.length ? { flagged } : {}),
  };
  await ctx.store.recordOutcome(outcome, memories.map((memory, i) => ({ memory, indexed: indexed[i]! })), change, claimMaking(caller, made), reinforced, await recalled);
  return { ...(await outcomeAnswer(ctx, made)), ...notRecordedNow(await reflection, merged) };
}

/** A lesson just said again is no missed lesson. */
function notRecordedNow(reflection: Partial<Reflection>, merged: readonly string[]): Partial<Reflection> {
  return reflection.missed_lessons ? { ...reflection, missed_lessons: reflection.missed_lessons.filter((l) => !merged.includes(l.id)) } : reflection;
}

/** The reflection on a failure or partial result, or nothing (a failed search must not fail the write; it is logged). */
async function withReflection(ctx: MemoryContext, goal: Goal, result: OutcomeResult, lessonsGiven: number, scope: { confined?: boolean; signal?: AbortSignal }): Promise<Partial<Reflection>> {
  try {
    return (await reflectOn(ctx, goal, result, lessonsGiven, scope)) ?? {};
  } catch (error) {
    ctx.logger.warn({ err: error }, 'the reflection on the outcome could not be read; the outcome is answered without it');
    return {};
  }
}

/** The procedural memories the caller recalled for the goal, or none (a failed audit read must not fail the write; it is logged). */
async function withRecalled(ctx: MemoryContext, goal: Goal, principalId: string): Promise<string[]> {
  try {
    return await recalledFor(ctx, goal, principalId);
  } catch (error) {
    ctx.logger.warn({ err: error }, 'the lessons recalled for the goal could not be read; the outcome is recorded without their evidence');
    return [];
  }
}

/**
 * record_outcome's answer rebuilt for a retry whose first answer was lost,
 * with its reflection read again (with the namespace's own statistics, as for
 * a key confined to it: the caller is not known here).
 */
export async function recoveredOutcome(ctx: MemoryContext, made: OutcomeWrite): Promise<RecordOutcomeResult> {
  const answer = await outcomeAnswer(ctx, made);
  const outcome = answer.goal.outcomes.find((o) => o.id === made.outcome_id);
  const reflection = outcome ? await withReflection(ctx, answer.goal, outcome.result, made.lesson_memory_ids.length, { confined: true }) : {};
  return { ...answer, ...notRecordedNow(reflection, made.merged_lesson_ids ?? []) };
}

/** What recording an outcome made: its ids, enough to answer it again. */
export type OutcomeWrite = Omit<RecordOutcomeResult, 'goal' | 'next_step' | 'redacted' | 'missed_lessons' | 'reflection_note'> & { goal_id: string; redacted?: RedactedField[] };

/** What record_outcome answers after the write: the ids, and the goal as it is now with its next step. */
export async function outcomeAnswer(ctx: MemoryContext, made: OutcomeWrite): Promise<RecordOutcomeResult> {
  const { goal_id: goalId, redacted, ...ids } = made;
  const goal = await requireGoal(ctx, goalId);
  // A goal no longer active has no next step, whatever its plan still lists.
  const next_step = goal.status === 'active' ? (goal.steps.find((s) => s.status === 'pending' || s.status === 'in_progress') ?? null) : null;
  return { goal, ...ids, next_step, ...(redacted?.length ? { redacted } : {}) };
}
