import { z } from 'zod';
import { described, Id } from '../domain/fields.js';
import { Goal } from '../domain/goal.js';
import { requireGoal } from '../memory/goals.js';
import { defineTool } from './define-tool.js';
import { stepLines } from './goal-text.js';

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
      `goal ${g.id} "${g.title}" [${g.status}, ${g.priority}] ${g.steps_done}/${g.steps_total} steps done`,
      ...stepLines(g),
      ...g.outcomes.map((o) => `  outcome ${o.result}: ${o.summary}`),
    ].join('\n'),
  audit: (_args, r) => ({ namespace: r?.goal.namespace ?? null, returned: r ? [r.goal.id] : [] }),
});
