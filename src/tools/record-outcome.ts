import { z } from 'zod';
import { described } from '../domain/fields.js';
import { Goal, MissedLesson, Step } from '../domain/goal.js';
import { recoveredOutcome, RecordOutcomeInput, recordOutcome, type OutcomeWrite } from '../memory/outcomes.js';
import { defineTool } from './define-tool.js';
import { Redacted, redactionNote } from './redacted-fields.js';

const Flagged = z.array(z.object({ field: z.string(), id: z.string(), signals: z.array(z.string()) })).optional();

export const recordOutcomeTool = defineTool({
  name: 'record_outcome',
  title: 'Record an outcome',
  description: `Record how a goal or one of its steps turned out, with a summary and lessons: they become memories that later searches for similar tasks find. The status moves with it unless update_status is false.
Returns the goal, the new ids, the next step while active and, after a failure, lessons it missed.`,
  input: RecordOutcomeInput,
  output: z.object({
    goal: Goal,
    outcome_id: z.string(),
    summary_memory_id: described(z.string(), 'Id of the episodic memory holding the summary.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
    lesson_memory_ids: described(z.array(z.string()), 'Ids of the procedural memories holding the lessons, in order.', []),
    next_step: described(Step.nullable(), 'While the goal is active: the first step of the current plan still pending or in progress, if any.', null),
    redacted: Redacted,
    merged_lesson_ids: described(
      z.array(z.string()).optional(),
      'Lessons that said what a lesson of the namespace already says: that one was strengthened (its evidence counts this outcome) instead of stored again; their ids are in lesson_memory_ids.',
      [],
    ),
    held: described(Flagged, 'Lessons that read as instructions aimed at a model (web, tool or import text): held for review, not searchable until an admin approves; absent when none.', []),
    flagged: described(Flagged, 'The summary or lessons stored but flagged as reading like instructions aimed at a model; absent when none.', []),
    missed_lessons: described(
      z.array(MissedLesson).optional(),
      'After a failure or partial: lessons of the namespace like this goal (not its own) that no call returned while it was worked on (from an hour before it was created); up to 5.',
      [],
    ),
    reflection_note: described(z.string().optional(), 'After a failure or partial without lessons: asks for them.', 'no lessons were recorded for this failure: …'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handle: (args, deps, caller) => recordOutcome(deps.memory, caller, args),
  recover: (made, _args, deps) => recoveredOutcome(deps.memory, made as OutcomeWrite),
  summarize: (r) =>
    [
      `recorded outcome ${r.outcome_id} for goal ${r.goal.id} [now ${r.goal.status}]; summary memory ${r.summary_memory_id}` +
        `${r.lesson_memory_ids.length ? `; ${r.lesson_memory_ids.length} lesson(s): ${r.lesson_memory_ids.join(', ')}` : ''}` +
        `${r.merged_lesson_ids?.length ? ` (already known, strengthened: ${r.merged_lesson_ids.join(', ')})` : ''}` +
        `${r.next_step ? `; next step: ${r.next_step.id} "${r.next_step.title}"` : ''}`,
      ...(r.missed_lessons?.length ? ['lessons this goal had and did not recall (did they apply?):', ...r.missed_lessons.map((l) => `- ${l.id}: ${l.text}`)] : []),
      ...(r.reflection_note ? [r.reflection_note] : []),
    ].join('\n') +
    redactionNote(r.redacted) +
    (r.held?.length ? `\nheld for review, not searchable until an admin approves: ${r.held.map((m) => `${m.field} ${m.id} (${m.signals.join(', ')})`).join(', ')}` : '') +
    (r.flagged?.length ? `\nflagged as instructions aimed at a model: ${r.flagged.map((m) => `${m.field} ${m.id} (${m.signals.join(', ')})`).join(', ')}` : ''),
  audit: (_args, r) => ({
    namespace: r?.goal.namespace ?? null,
    touched: r ? [r.goal.id, r.outcome_id, r.summary_memory_id, ...r.lesson_memory_ids] : [],
    // The lessons shown count as recalled from now on.
    returned: r?.missed_lessons?.map((l) => l.id) ?? [],
  }),
});
