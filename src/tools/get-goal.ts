import { z } from 'zod';
import { described, Id } from '../domain/fields.js';
import { Goal } from '../domain/goal.js';
import { requireGoal } from '../memory/goals.js';
import { defineTool } from './define-tool.js';
import { stepLines } from './goal-text.js';
import { recordLink } from './resource-uris.js';

export const getGoalTool = defineTool({
  name: 'get_goal',
  title: 'Get a goal',
  description: `Fetch a goal by id: its fields, status, current steps with their ids, plan history and outcomes. Find goal ids with list_goals or search_memory.`,
  input: z.strictObject({
    goal_id: described(Id, 'The goal id.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  }),
  output: z.object({ goal: Goal }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handle: async (args, deps) => ({ goal: await requireGoal(deps.memory, args.goal_id) }),
  summarize: ({ goal: g }) =>
    [
      `goal ${g.id} "${g.title}" [${g.status}, ${g.priority}] ${g.steps_done}/${g.steps_total} steps done${g.origin === null ? '' : ` (from ${g.origin})`}`,
      ...stepLines(g),
      ...g.outcomes.map((o) => `  outcome ${o.result}: ${o.summary}`),
    ].join('\n'),
  // The memories its outcomes became (summaries and lessons), newest outcome first, at most 20.
  links: ({ goal }) =>
    [...goal.outcomes].reverse().flatMap((o) => [o.summary_memory_id, ...o.lesson_memory_ids]).slice(0, 20).map((id) => recordLink('memory', id)),
  audit: (_args, r) => ({ namespace: r?.goal.namespace ?? null, returned: r ? [r.goal.id] : [] }),
});
