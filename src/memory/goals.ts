import { z } from 'zod';
import { MemoryError, notFound } from '../domain/errors.js';
import { GoalFields, GoalStatus, StepInput, StepUpdate, type Goal, type GoalSummary, type PastGoal } from '../domain/goal.js';
import { described, expectedList, Id, IdempotencyKey } from '../domain/fields.js';
import { newId } from '../domain/ids.js';
import type { GoalRecord, GoalUpdate, PlanRecord } from '../store/store.js';
import type { Caller, MemoryContext } from './context.js';
import { experienceFor } from './experience.js';
import { claimMaking } from './idempotency.js';
import { SecretGuard, type RedactedField } from '../firewall/secret-guard.js';
import { findDuplicateGoals, type DuplicateGoal } from './goal-duplicates.js';
import { checkJsonObject } from './limits.js';
import { provenanceFor } from './provenance.js';
import { injectionAction, judgeInjection, stringsOf } from '../firewall/injection-guard.js';
import { goalSearchText, stepSearchText } from './search-text.js';

export const MAX_STEPS = 50;

export const RememberGoalInput = z.strictObject({
  goal_id: described(Id.optional(), 'The goal to update; leave out to create one.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  ...GoalFields,
  title: GoalFields.title.optional(),
  status: described(GoalStatus.optional(), 'Updates only.', 'achieved'),
  plan: described(
    z.array(StepInput, expectedList('steps, e.g. [{"title": "…"}]')).min(1).max(MAX_STEPS).optional(),
    'Ordered steps; on update, they replace the plan (the old one is kept).',
    [{ title: 'Write the CSV writer' }, { title: 'Add the download endpoint' }],
  ),
  plan_reason: described(z.string().max(2000).optional(), 'Why the plan changed.', 'The API changed; the export runs as a job now.'),
  step_updates: described(
    z.array(StepUpdate, expectedList('step updates, e.g. [{"step_id": "…", "status": "done"}]')).min(1).max(MAX_STEPS).optional(),
    'Updates only: new step statuses.',
    [{ step_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', status: 'done', result_note: 'Merged.' }],
  ),
  if_duplicate: described(
    z.enum(['create', 'return_existing']).optional(),
    'On create, if an active goal looks the same: create anyway (default), or return_existing (the closest).',
    'return_existing',
  ),
  idempotency_key: IdempotencyKey,
});
export type RememberGoalInput = z.infer<typeof RememberGoalInput>;

export interface RememberGoalResult {
  goal: Goal;
  created: boolean;
  /** True when the call created nothing and returned an active look-alike (if_duplicate: return_existing). */
  existing: boolean;
  possible_duplicates: DuplicateGoal[];
  /** Fields whose secrets were stored as marks; absent when none. */
  redacted?: RedactedField[];
  /** On create: what past goals of the namespace say (see experience.ts); absent when it could not be read. */
  experience?: PastGoal[];
}

async function planRecord(ctx: MemoryContext, steps: readonly StepInput[], version: number, reason: string | null, now: string): Promise<PlanRecord> {
  const indexed = await ctx.indexer.index(steps.map((step) => stepSearchText({ title: step.title, detail: step.detail ?? null })));
  return {
    version,
    reason,
    created_at: now,
    steps: steps.map((step, i) => ({ id: newId(), position: i + 1, title: step.title, detail: step.detail ?? null, indexed: indexed[i]! })),
  };
}

/** Load a goal of the caller's namespace, or say how to find one. */
export async function requireGoal(ctx: MemoryContext, id: string): Promise<Goal> {
  const goal = await ctx.store.getGoal(id);
  if (!goal) throw notFound('goal', id, 'call list_goals or search_memory with types ["goal"] to find goals');
  return goal;
}

/** The goal fields as they may be stored: secrets replaced by marks (or the write refused), by the namespace's policy. */
async function withoutSecrets(guard: SecretGuard, input: RememberGoalInput): Promise<RememberGoalInput> {
  const optional = async (field: string, text: string | undefined) => (text === undefined ? undefined : guard.text(field, text));
  const list = <T>(items: readonly T[] | undefined, each: (item: T, i: number) => Promise<T>) => (items === undefined ? undefined : Promise.all(items.map(each)));
  return {
    ...input,
    title: await optional('title', input.title),
    description: await optional('description', input.description),
    success_criteria: await list(input.success_criteria, (text, i) => guard.text(`success_criteria[${i}]`, text)),
    plan: await list(input.plan, async (step, i) => ({ ...step, title: await guard.text(`plan[${i}].title`, step.title), detail: await optional(`plan[${i}].detail`, step.detail) })),
    plan_reason: await optional('plan_reason', input.plan_reason),
    step_updates: await list(input.step_updates, async (update, i) => ({ ...update, result_note: await optional(`step_updates[${i}].result_note`, update.result_note) })),
    metadata: input.metadata === undefined ? undefined : await guard.json('metadata', input.metadata),
  };
}

async function createGoal(ctx: MemoryContext, caller: Caller, sent: RememberGoalInput): Promise<RememberGoalResult> {
  const guard = new SecretGuard(ctx.secrets, sent.namespace ?? ctx.defaultNamespace);
  const input = await withoutSecrets(guard, sent);
  if (input.title === undefined) throw new MemoryError('invalid_input', 'title is required to create a goal (or pass goal_id to update one)');
  if (input.status !== undefined) throw new MemoryError('invalid_input', 'a new goal starts active; set status when updating it with goal_id');
  if (input.step_updates !== undefined) throw new MemoryError('invalid_input', 'step_updates need goal_id: a new goal has no steps yet');
  const namespace = input.namespace ?? ctx.defaultNamespace;
  if (input.metadata) checkJsonObject('metadata', input.metadata, ctx.limits.maxMetadataBytes);
  if (input.parent_goal_id !== undefined) {
    const parent = await ctx.store.getGoal(input.parent_goal_id);
    if (!parent || parent.namespace !== namespace) {
      throw notFound('parent goal', input.parent_goal_id, `no such goal in namespace "${namespace}"; call list_goals`);
    }
  }
  const now = ctx.now();
  const provenance = await provenanceFor(guard, caller, input);
  // The agent's own working record: instructions aimed at a model in it are flagged, never held.
  const texts = [input.title, input.description ?? '', ...(input.success_criteria ?? []), ...(input.plan ?? []).flatMap((step) => [step.title, step.detail ?? '']), input.plan_reason ?? '', ...stringsOf(input.metadata ?? {})];
  const verdict = judgeInjection(injectionAction(ctx.injections, namespace, provenance.origin), 'the goal', namespace, texts, true);
  const record: GoalRecord = {
    id: newId(),
    namespace,
    title: input.title,
    description: input.description ?? null,
    success_criteria: input.success_criteria ?? [],
    priority: input.priority ?? 'normal',
    status: 'active',
    tags: [...new Set(input.tags ?? [])],
    metadata: input.metadata ?? {},
    parent_goal_id: input.parent_goal_id ?? null,
    source: caller.clientName,
    created_at: now,
    updated_at: now,
    ...provenance,
    injection: verdict.injection,
  };
  const duplicates = findDuplicateGoals(record, await ctx.store.activeGoalTitles(namespace));
  const closest = duplicates[0];
  if (closest && input.if_duplicate === 'return_existing') {
    const goal = await requireGoal(ctx, closest.id);
    return { goal, created: false, existing: true, possible_duplicates: duplicates, ...(await withExperience(ctx, caller, goal)) };
  }
  // The experience search runs while the new goal is embedded and written (it leaves the new goal out by id).
  const experience = withExperience(ctx, caller, record);
  const [indexed] = await ctx.indexer.index([goalSearchText(record)]);
  const made: GoalWrite = { goal_id: record.id, created: true, possible_duplicates: duplicates, redacted: guard.redacted };
  await ctx.store.createGoal(record, indexed!, input.plan ? await planRecord(ctx, input.plan, 1, null, now) : null, claimMaking(caller, made));
  return { ...(await goalWriteAnswer(ctx, made)), ...(await experience) };
}

/**
 * The experience of past goals for a goal being created, or nothing when it
 * cannot be read (a failed search must not fail the write; it is logged).
 */
async function withExperience(ctx: MemoryContext, caller: Caller, goal: Parameters<typeof experienceFor>[1]): Promise<{ experience?: PastGoal[] }> {
  try {
    return { experience: await experienceFor(ctx, goal, { confined: caller.confined === true, ...(caller.signal ? { signal: caller.signal } : {}) }) };
  } catch (error) {
    ctx.logger.warn({ err: error }, 'the experience of past goals could not be read; the goal is answered without it');
    return {};
  }
}

/** What a goal write made: enough to answer it again (with the goal as it is now). */
export interface GoalWrite {
  goal_id: string;
  created: boolean;
  possible_duplicates: DuplicateGoal[];
  redacted: RedactedField[];
}

/** What remember_goal answers after a write: the goal read back, and what the write noted. */
export async function goalWriteAnswer(ctx: MemoryContext, made: GoalWrite): Promise<RememberGoalResult> {
  const redacted = made.redacted?.length ? { redacted: made.redacted } : {};
  return { goal: await requireGoal(ctx, made.goal_id), created: made.created, existing: false, possible_duplicates: made.possible_duplicates, ...redacted };
}

/**
 * remember_goal's answer rebuilt for a retry whose first answer was lost: a
 * created goal gets its experience again (read now, with the namespace's own
 * statistics, as for a key confined to it: the caller is not known here).
 */
export async function recoveredGoalWrite(ctx: MemoryContext, made: GoalWrite): Promise<RememberGoalResult> {
  const answer = await goalWriteAnswer(ctx, made);
  return made.created ? { ...answer, ...(await withExperience(ctx, { clientName: null, confined: true }, answer.goal)) } : answer;
}

async function updateGoal(ctx: MemoryContext, caller: Caller, goalId: string, sent: RememberGoalInput): Promise<RememberGoalResult> {
  const goal = await requireGoal(ctx, goalId);
  const guard = new SecretGuard(ctx.secrets, goal.namespace);
  const input = await withoutSecrets(guard, sent);
  if (input.namespace !== undefined && input.namespace !== goal.namespace) {
    throw new MemoryError('invalid_input', `goal ${goal.id} lives in namespace "${goal.namespace}"; a goal cannot move between namespaces`);
  }
  if (input.parent_goal_id !== undefined) throw new MemoryError('invalid_input', 'parent_goal_id can only be set when creating a goal');
  if (input.origin !== undefined || input.origin_ref !== undefined) {
    throw new MemoryError('invalid_input', 'origin and origin_ref are set when a goal is created and never change; leave them out of an update');
  }
  if (input.if_duplicate !== undefined) throw new MemoryError('invalid_input', 'if_duplicate applies only when creating a goal (without goal_id)');
  if (input.plan && input.step_updates) {
    throw new MemoryError('invalid_input', 'send either a revised plan or step_updates in one call, not both');
  }
  if (input.metadata) checkJsonObject('metadata', input.metadata, ctx.limits.maxMetadataBytes);

  const current = new Set(goal.steps.map((s) => s.id));
  for (const update of input.step_updates ?? []) {
    if (!current.has(update.step_id)) {
      throw notFound('step', update.step_id, `it is not in the current plan of goal ${goal.id}; call get_goal to see the step ids`);
    }
  }
  const now = ctx.now();
  const fields: GoalUpdate['fields'] = {};
  if (input.title !== undefined) fields.title = input.title;
  if (input.description !== undefined) fields.description = input.description;
  if (input.success_criteria !== undefined) fields.success_criteria = input.success_criteria;
  if (input.priority !== undefined) fields.priority = input.priority;
  if (input.status !== undefined) fields.status = input.status;
  if (input.tags !== undefined) fields.tags = [...new Set(input.tags)];
  if (input.metadata !== undefined) fields.metadata = input.metadata;

  const update: GoalUpdate = { id: goal.id, updated_at: now, fields };
  const textChanged = ['title', 'description', 'success_criteria', 'tags'].some((field) => field in fields);
  if (textChanged) {
    const next = { ...goal, ...fields };
    [update.indexed] = await ctx.indexer.index([goalSearchText(next)]);
  }
  if (input.plan) update.plan = await planRecord(ctx, input.plan, goal.plan_version + 1, input.plan_reason ?? null, now);
  if (input.step_updates) {
    update.steps = input.step_updates.map((s) => ({ id: s.step_id, status: s.status, result_note: s.result_note ?? null }));
  }
  const made: GoalWrite = { goal_id: goal.id, created: false, possible_duplicates: [], redacted: guard.redacted };
  await ctx.store.updateGoal(update, claimMaking(caller, made));
  return goalWriteAnswer(ctx, made);
}

/** Create a goal (reporting look-alike active goals) or update one. */
export async function rememberGoal(ctx: MemoryContext, caller: Caller, input: RememberGoalInput): Promise<RememberGoalResult> {
  return input.goal_id === undefined ? createGoal(ctx, caller, input) : updateGoal(ctx, caller, input.goal_id, input);
}

export async function listGoals(
  ctx: MemoryContext,
  query: { namespace?: string; statuses?: GoalStatus[]; parent_goal_id?: string; limit: number },
): Promise<GoalSummary[]> {
  return ctx.store.listGoals({
    namespace: query.namespace === '*' ? null : (query.namespace ?? ctx.defaultNamespace),
    statuses: query.statuses ?? ['active'],
    limit: query.limit,
    ...(query.parent_goal_id === undefined ? {} : { parent_goal_id: query.parent_goal_id }),
  });
}
