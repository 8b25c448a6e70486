import { z } from 'zod';
import { Id, isCalendarTimestamp, Namespace, singleLine, Tag } from '../domain/fields.js';
import { Criterion, GoalDescription, GoalStatus, GoalTitle, Lesson, MAX_CRITERIA, MAX_LESSONS, OutcomeResult, Priority, StepStatus, StepText, StepTitle } from '../domain/goal.js';
import { ID_PATTERN } from '../domain/ids.js';
import { Importance, Kind, Layer, Source, ThreadId } from '../domain/memory.js';
import { Origin } from '../domain/provenance.js';
import { MAX_STEPS } from './goals.js';
import type { ExportRecord } from '../store/store.js';

/**
 * The backup format: JSON lines, one record each, told apart by `type`.
 *
 *   {"type":"header","format":"pinak-memory-export","version":2,"exported_at":…,"namespace":null}
 *   {"type":"goal",…}      a goal with `plan_version` and `plans`: every revision, each with its steps
 *   {"type":"outcome",…}   an outcome, naming the memories it created (summary_memory_id, lesson_memory_ids)
 *   {"type":"memory",…}    a memory, every field
 *   {"type":"evidence",…}  a procedural memory recalled for a goal before its deciding outcome (version 3)
 *
 * Goals come first (a parent before its children), then outcomes, then
 * memories, each kind in id order, then evidence by memory and outcome id.
 * Version 1 files hold memory lines alone, without `type`; they still import.
 * Version 3 added each record's provenance (origin, origin_ref, written_by)
 * and the evidence lines; a record of an older file imports with its
 * provenance "not recorded" (null).
 * Version 4 added each record's injection verdict (`injection`: the
 * detector's signals, [] none, null not scanned) and whether a memory is
 * held for review (`held`); a record of an older file imports as not
 * scanned and not held.
 */
export const EXPORT_FORMAT = 'pinak-memory-export';
export const EXPORT_VERSION = 4;

const Ulid = z.string().regex(ID_PATTERN, 'must be a ULID');
const Time = z.string().refine(isCalendarTimestamp, 'must be an ISO 8601 time');
const JsonObject = z.record(z.string(), z.unknown());
// A backup obeys the limits and label rules of the tools that stored its records: a file from elsewhere may not.
const StoredTags = z.array(Tag).max(32);
/** Provenance as stored: absent in files before version 3 (not recorded). A reference may hold a [redacted: …] mark, so it is any single line, not only a URL or a name. */
const StoredProvenance = {
  origin: Origin.nullable().default(null),
  origin_ref: singleLine(z.string().min(1).max(1024)).nullable().default(null),
  written_by: singleLine(z.string().min(1).max(256)).nullable().default(null),
};

/** The injection verdict as stored: absent in files before version 4 (not scanned). */
const StoredInjection = {
  injection: z.array(z.string().regex(/^[a-z-]{1,64}$/u, 'must be a signal name')).max(64).nullable().default(null),
};

export const ExportHeader = z.strictObject({
  type: z.literal('header'),
  format: z.literal(EXPORT_FORMAT),
  version: z.number().int().min(1),
  exported_at: Time,
  namespace: z.string().nullable(),
});
export type ExportHeader = z.infer<typeof ExportHeader>;

const ExportedStep = z.strictObject({
  id: Ulid,
  position: z.number().int().min(1),
  title: StepTitle,
  detail: StepText.nullable(),
  status: StepStatus,
  result_note: StepText.nullable(),
  updated_at: Time,
});

const ExportedPlan = z.strictObject({
  version: z.number().int().min(1),
  reason: z.string().max(2000).nullable(),
  created_at: Time,
  steps: z.array(ExportedStep).max(MAX_STEPS),
});

export const ExportedGoal = z
  .strictObject({
    type: z.literal('goal'),
    id: Ulid,
    namespace: Namespace,
    title: GoalTitle,
    description: GoalDescription.nullable(),
    success_criteria: z.array(Criterion).max(MAX_CRITERIA),
    priority: Priority,
    status: GoalStatus,
    tags: StoredTags,
    metadata: JsonObject,
    parent_goal_id: Ulid.nullable(),
    source: Source.nullable(),
    created_at: Time,
    updated_at: Time,
    plan_version: z.number().int().min(0),
    plans: z.array(ExportedPlan),
    ...StoredProvenance,
    ...StoredInjection,
  })
  .superRefine((goal, ctx) => {
    const versions = goal.plans.map((plan) => plan.version);
    if (versions.some((version, i) => i > 0 && version <= versions[i - 1]!)) ctx.addIssue({ code: 'custom', path: ['plans'], message: 'plan versions must be unique and ascending' });
    if (goal.plan_version !== (versions.at(-1) ?? 0)) ctx.addIssue({ code: 'custom', path: ['plan_version'], message: 'must be the last plan\'s version (0 without plans)' });
    const steps = goal.plans.flatMap((plan) => plan.steps.map((step) => step.id));
    if (new Set(steps).size !== steps.length) ctx.addIssue({ code: 'custom', path: ['plans'], message: 'a step id appears twice' });
    for (const [i, plan] of goal.plans.entries()) {
      const positions = plan.steps.map((step) => step.position);
      if (new Set(positions).size !== positions.length) ctx.addIssue({ code: 'custom', path: ['plans', i, 'steps'], message: 'two steps share a position' });
    }
    if (goal.parent_goal_id === goal.id) ctx.addIssue({ code: 'custom', path: ['parent_goal_id'], message: 'a goal cannot be its own parent' });
  });
export type ExportedGoal = z.infer<typeof ExportedGoal>;

export const ExportedOutcome = z.strictObject({
  type: z.literal('outcome'),
  id: Ulid,
  goal_id: Ulid,
  step_id: Ulid.nullable(),
  result: OutcomeResult,
  summary: z.string().trim().min(1),
  lessons: z.array(Lesson).max(MAX_LESSONS),
  metrics: JsonObject,
  summary_memory_id: Ulid,
  lesson_memory_ids: z.array(Ulid),
  created_at: Time,
  ...StoredProvenance,
  ...StoredInjection,
});
export type ExportedOutcome = z.infer<typeof ExportedOutcome>;

/** An evidence line: a memory recalled for a goal before its outcome (the evidence from outcomes comes with them). */
export const ExportedEvidence = z.strictObject({
  type: z.literal('evidence'),
  memory_id: Ulid,
  outcome_id: Ulid,
  goal_id: Ulid,
  result: OutcomeResult,
  how: z.literal('recalled'),
  at: Time,
});
export type ExportedEvidence = z.infer<typeof ExportedEvidence>;

/** A memory line: `type` is absent in version 1 files. */
export const ExportedMemory = z.strictObject({
  type: z.literal('memory').optional(),
  id: Ulid,
  layer: Layer,
  kind: Kind,
  content: z.string().min(1),
  tags: StoredTags,
  metadata: JsonObject,
  importance: Importance,
  namespace: Namespace,
  source: Source.nullable(),
  goal_id: Id.nullable(),
  occurred_at: Time,
  created_at: Time,
  updated_at: Time,
  supersedes: Id.nullable(),
  superseded_by: Id.nullable(),
  thread_id: ThreadId.nullable(),
  thread_position: z.number().finite().nullable(),
  ...StoredProvenance,
  ...StoredInjection,
  held: z.boolean().default(false),
});
export type ExportedMemory = z.infer<typeof ExportedMemory>;

/** The first line of an export. */
export const exportHeader = (exportedAt: string, namespace: string | null): ExportHeader => ({
  type: 'header',
  format: EXPORT_FORMAT,
  version: EXPORT_VERSION,
  exported_at: exportedAt,
  namespace,
});

/** A record as its line holds it, `type` first. */
export function exportLine(record: ExportRecord): string {
  switch (record.type) {
    case 'goal':
      return JSON.stringify({ type: 'goal', ...record.goal });
    case 'outcome':
      return JSON.stringify({ type: 'outcome', ...record.outcome });
    case 'memory':
      return JSON.stringify({ type: 'memory', ...record.memory });
    case 'evidence':
      return JSON.stringify({ type: 'evidence', ...record.evidence });
  }
}
