import { z } from 'zod';
import { described, Id, Namespace, stringList } from '../domain/fields.js';
import { GoalStatus, GoalSummary } from '../domain/goal.js';
import { listGoals } from '../memory/goals.js';
import { defineTool } from './define-tool.js';
import { recordLink } from './resource-uris.js';

export const listGoalsTool = defineTool({
  name: 'list_goals',
  title: 'List goals',
  description: `List goals by status (default active), most important and most recent first, with step progress. For goals about a topic, call search_memory with types ["goal"].`,
  input: z.strictObject({
    statuses: described(stringList(GoalStatus, { min: 1, max: 4 }).optional(), 'Default: ["active"].', ['active', 'failed']),
    namespace: described(z.union([Namespace, z.literal('*')]).optional(), 'Default: the server\'s; "*": all.', 'project-x'),
    parent_goal_id: described(Id.optional(), 'Only sub-goals of this goal.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
    limit: described(z.number().int().min(1).max(100).default(20), 'Most goals to return.', 20),
  }),
  output: z.object({ goals: z.array(GoalSummary) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handle: async (args, deps) => ({ goals: await listGoals(deps.memory, args) }),
  summarize: (r) =>
    r.goals.length === 0
      ? 'no goals match'
      : r.goals.map((g) => `${g.id} [${g.status}, ${g.priority}] ${g.title} (${g.steps_done}/${g.steps_total} steps)`).join('\n'),
  links: (r) => r.goals.map((g) => recordLink('goal', g.id, g.title)),
  audit: (args, r, deps) => ({ namespace: args.namespace ?? deps.memory.defaultNamespace, returned: r?.goals.map((g) => g.id) ?? [] }),
});
