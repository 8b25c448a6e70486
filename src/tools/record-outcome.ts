import { z } from 'zod';
import { described } from '../domain/fields.js';
import { Goal, Step } from '../domain/goal.js';
import { outcomeAnswer, RecordOutcomeInput, recordOutcome, type OutcomeWrite } from '../memory/outcomes.js';
import { defineTool } from './define-tool.js';
import { Redacted, redactionNote } from './redacted-fields.js';

export const recordOutcomeTool = defineTool({
  name: 'record_outcome',
  title: 'Record an outcome',
  description: `Record how a goal or one of its steps turned out, with a summary and lessons: they become memories that later searches for similar tasks find. The status moves with it unless update_status is false.
Returns the goal, the new ids and, while the goal is active, its next step.`,
  input: RecordOutcomeInput,
  output: z.object({
    goal: Goal,
    outcome_id: z.string(),
    summary_memory_id: described(z.string(), 'Id of the episodic memory holding the summary.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
    lesson_memory_ids: described(z.array(z.string()), 'Ids of the procedural memories holding the lessons, in order.', []),
    next_step: described(Step.nullable(), 'While the goal is active: the first step of the current plan still pending or in progress, if any.', null),
    redacted: Redacted,
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handle: (args, deps, caller) => recordOutcome(deps.memory, caller, args),
  recover: (made, _args, deps) => outcomeAnswer(deps.memory, made as OutcomeWrite),
  summarize: (r) =>
    `recorded outcome ${r.outcome_id} for goal ${r.goal.id} [now ${r.goal.status}]; summary memory ${r.summary_memory_id}` +
    `${r.lesson_memory_ids.length ? `; ${r.lesson_memory_ids.length} lesson(s): ${r.lesson_memory_ids.join(', ')}` : ''}` +
    `${r.next_step ? `; next step: ${r.next_step.id} "${r.next_step.title}"` : ''}` +
    redactionNote(r.redacted),
  audit: (_args, r) => ({
    namespace: r?.goal.namespace ?? null,
    touched: r ? [r.goal.id, r.outcome_id, r.summary_memory_id, ...r.lesson_memory_ids] : [],
  }),
});
