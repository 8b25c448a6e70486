import { z } from 'zod';
import { described, Id, Metadata, Namespace, singleLine, stringList, Tags } from './fields.js';
import { BareProvenanceInput, InjectionFields, ProvenanceFields } from './provenance.js';

export const GOAL_STATUSES = ['active', 'achieved', 'failed', 'abandoned'] as const;
export const GoalStatus = z.enum(GOAL_STATUSES);
export type GoalStatus = z.infer<typeof GoalStatus>;

export const STEP_STATUSES = ['pending', 'in_progress', 'done', 'failed', 'skipped'] as const;
export const StepStatus = z.enum(STEP_STATUSES);
export type StepStatus = z.infer<typeof StepStatus>;

export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;

export const OUTCOME_RESULTS = ['success', 'failure', 'partial'] as const;
export const OutcomeResult = z.enum(OUTCOME_RESULTS);
export type OutcomeResult = z.infer<typeof OutcomeResult>;

/** Goal and step fields with their limits, shared by the tools' inputs and the backup format (what is stored obeys one set of rules). */
export const GoalTitle = singleLine(z.string().trim().min(1).max(500));
export const GoalDescription = z.string().max(8000);
export const Criterion = z.string().min(1).max(1000);
export const MAX_CRITERIA = 20;
export const StepTitle = singleLine(z.string().trim().min(1).max(500));
export const StepText = z.string().max(4000);
export const Lesson = z.string().trim().min(1).max(4000);
export const MAX_LESSONS = 20;

/** A plan step as a caller writes it. */
export const StepInput = z.strictObject({
  title: described(StepTitle, 'What the step does.', 'Add a migration for the users table'),
  detail: described(StepText.optional(), 'How to do it.', 'Use a transaction; keep it reversible.'),
});
export type StepInput = z.infer<typeof StepInput>;

/** A change to one step of the current plan. */
export const StepUpdate = z.strictObject({
  step_id: described(Id, 'From the goal\'s steps.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  status: described(StepStatus, 'New status.', 'done'),
  result_note: described(StepText.optional(), 'What happened.', 'Migration applied on staging.'),
});
export type StepUpdate = z.infer<typeof StepUpdate>;

export const Step = z.object({
  id: z.string(),
  position: described(z.number().int(), 'Order in the plan, starting at 1.', 1),
  title: z.string(),
  detail: z.string().nullable(),
  status: StepStatus,
  result_note: z.string().nullable(),
  updated_at: z.string(),
});
export type Step = z.infer<typeof Step>;

export const PlanRevision = z.object({
  version: z.number().int(),
  created_at: z.string(),
  reason: z.string().nullable(),
  steps: z.array(z.object({ id: z.string(), title: z.string(), status: StepStatus })),
});
export type PlanRevision = z.infer<typeof PlanRevision>;

export const Outcome = z.object({
  id: z.string(),
  goal_id: z.string(),
  step_id: z.string().nullable(),
  result: OutcomeResult,
  summary: z.string(),
  lessons: z.array(z.string()),
  metrics: z.record(z.string(), z.unknown()),
  summary_memory_id: z.string(),
  lesson_memory_ids: z.array(z.string()),
  created_at: z.string(),
  ...ProvenanceFields,
  ...InjectionFields,
});
export type Outcome = z.infer<typeof Outcome>;

/** A goal without its plan: what list_goals shows. */
export const GoalSummary = z.object({
  id: z.string(),
  namespace: z.string(),
  title: z.string(),
  status: GoalStatus,
  priority: Priority,
  tags: z.array(z.string()),
  parent_goal_id: z.string().nullable(),
  plan_version: described(z.number().int(), 'Current plan revision; 0 when the goal has no plan.', 1),
  steps_total: z.number().int(),
  steps_done: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type GoalSummary = z.infer<typeof GoalSummary>;

/** A goal with its current plan, its plan history and its outcomes. */
export const Goal = GoalSummary.extend({
  description: z.string().nullable(),
  success_criteria: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  source: z.string().nullable(),
  steps: described(z.array(Step), 'Steps of the current plan, in order.', []),
  plan_history: described(z.array(PlanRevision), 'Earlier plan revisions, oldest first.', []),
  outcomes: described(z.array(Outcome), 'The newest 20 recorded outcomes, oldest of them first.', []),
  outcomes_total: described(z.number().int(), 'How many outcomes the goal has in all.', 1),
  ...ProvenanceFields,
  ...InjectionFields,
});
export type Goal = z.infer<typeof Goal>;

/** Fields a caller may set when creating a goal. */
export const GoalFields = {
  title: described(GoalTitle, 'The goal in one line; required to create.', 'Ship the billing export feature'),
  description: described(GoalDescription.optional(), 'What and why.', 'Customers need CSV exports of invoices.'),
  success_criteria: described(stringList(Criterion, { max: MAX_CRITERIA }).optional(), 'How to tell it is achieved.', ['Export downloads in under 5 s']),
  priority: described(Priority.optional(), 'Default: normal.', 'high'),
  tags: described(Tags.optional(), 'Labels to filter by.', ['billing']),
  metadata: described(Metadata.optional(), 'Extra JSON data (up to 16 KiB).', { ticket: 'BILL-12' }),
  parent_goal_id: described(Id.optional(), 'A larger goal this one serves.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  namespace: described(Namespace.optional(), 'Project or workspace; default: the server\'s.', 'project-x'),
  ...BareProvenanceInput,
};

/** A lesson an outcome taught, as experience and reflection show it: the procedural memory's id, its text (trimmed) and the result it came from. */
export const LessonRef = z.object({
  id: described(z.string(), 'The lesson\'s memory id (get_memory for the whole text).', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  text: described(z.string(), 'The lesson, trimmed.', 'Stream large CSV exports instead of building them in memory.'),
  result: described(OutcomeResult, 'The result of the outcome it was recorded with.', 'success'),
});
export type LessonRef = z.infer<typeof LessonRef>;

/** A past goal as remember_goal's experience shows it: how it ended, what went wrong, what it taught. */
export const PastGoal = z.object({
  goal_id: z.string(),
  title: z.string(),
  status: GoalStatus,
  result: described(OutcomeResult.nullable(), 'Its newest outcome\'s result (a goal-level one first); null when none was recorded.', 'failure'),
  outcome_id: z.string().nullable(),
  summary: described(z.string().nullable(), 'That outcome\'s summary, trimmed: for a failure or partial, what went wrong.', 'The export timed out for accounts with over 10k invoices.'),
  lessons: described(z.array(LessonRef), 'Lessons of its outcomes, newest first (at most 3).', []),
});
export type PastGoal = z.infer<typeof PastGoal>;

/** A lesson of the namespace that was there for a goal and not recalled while it was worked on (record_outcome's reflection). */
export const MissedLesson = z.object({
  id: described(z.string(), 'The lesson\'s memory id.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  text: described(z.string(), 'The lesson, trimmed.', 'Freeze invoice writes before copying the billing tables.'),
  goal_id: described(z.string().nullable(), 'The goal it was learned on, if any.', '01JD3Z6Q6H8W1V8N2X4C5B7E9G'),
});
export type MissedLesson = z.infer<typeof MissedLesson>;
