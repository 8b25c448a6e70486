import { z } from 'zod';
import { described } from '../domain/fields.js';
import { Goal, PastGoal } from '../domain/goal.js';
import { recoveredGoalWrite, RememberGoalInput, rememberGoal, type GoalWrite } from '../memory/goals.js';
import { defineTool } from './define-tool.js';
import { experienceLines, stepLines } from './goal-text.js';
import { Redacted, redactionNote } from './redacted-fields.js';

export const rememberGoalTool = defineTool({
  name: 'remember_goal',
  title: 'Remember a goal',
  description: `Create a goal, optionally with a plan of steps; or, with goal_id, update its status, fields, plan (the old one is kept) or step statuses.
Creating lists active look-alikes in possible_duplicates (if_duplicate "return_existing" returns the closest instead), and similar past goals with outcomes and lessons in experience. Results of work go to record_outcome. Returns the goal with its steps and their ids.`,
  input: RememberGoalInput,
  output: z.object({
    goal: Goal,
    created: described(z.boolean(), 'true when a new goal was created, false for an update or a returned look-alike.', true),
    existing: described(z.boolean(), 'true when nothing was created and goal is an active look-alike (if_duplicate: "return_existing").', false),
    possible_duplicates: described(
      z.array(z.object({ id: z.string(), title: z.string(), similarity: z.number() })),
      'Active goals of the same namespace that look like the new one (word overlap 0–1).',
      [],
    ),
    redacted: Redacted,
    experience: described(
      z.array(PastGoal).optional(),
      'On create: the most similar past goals of the namespace (any status), successes first, each with how it ended, what went wrong and up to 3 lessons.',
      [],
    ),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handle: (args, deps, caller) => rememberGoal(deps.memory, caller, args),
  recover: (made, _args, deps) => recoveredGoalWrite(deps.memory, made as GoalWrite),
  summarize: (r) => {
    const g = r.goal;
    const head = r.existing
      ? `returned existing goal ${g.id} "${g.title}" [${g.status}] (similarity ${r.possible_duplicates[0]?.similarity ?? 1}); nothing was created`
      : `${r.created ? 'created' : 'updated'} goal ${g.id} "${g.title}" [${g.status}]`;
    const others = r.possible_duplicates.filter((d) => d.id !== g.id);
    const dupes = others.length ? [`possible duplicates: ${others.map((d) => `${d.id} "${d.title}"`).join(', ')}`] : [];
    return [`${head}, ${g.steps_done}/${g.steps_total} steps done`, ...stepLines(g), ...dupes, ...experienceLines(r.experience ?? [])].join('\n') + redactionNote(r.redacted);
  },
  audit: (_args, r) => {
    const ids = r ? [r.goal.id, ...r.goal.steps.map((s) => s.id)] : [];
    // What the experience showed counts as recalled (record_outcome's reflection reads it from the trail).
    const shown = (r?.experience ?? []).flatMap((p) => [p.goal_id, ...p.lessons.map((l) => l.id)]);
    return { namespace: r?.goal.namespace ?? null, ...(r?.existing ? { returned: [...ids, ...shown] } : { touched: ids, returned: shown }) };
  },
});
