import type { LinkedGoal, SearchHit } from '../domain/search.js';
import type { MemoryContext } from './context.js';

/** Goals read for one answer, at most, and lessons kept of each. */
const MAX_GOALS = 10;
const MAX_LESSONS = 10;

/**
 * The goals the hits are linked to, in the order of the best hit linked to
 * each: a goal hit itself, the goal of a step, the goal a memory serves.
 * Each comes with its status and the lessons of its newest outcomes, newest
 * first. A goal of another namespace than its hit is left out (links never
 * cross namespaces; this keeps a confined search to its own).
 */
export async function linkedGoals(ctx: MemoryContext, hits: readonly SearchHit[]): Promise<LinkedGoal[]> {
  const wanted = new Map<string, string>();
  for (const hit of hits) {
    const id = hit.type === 'goal' ? hit.id : hit.goal_id;
    if (id !== null && !wanted.has(id) && wanted.size < MAX_GOALS) wanted.set(id, hit.namespace);
  }
  const goals: LinkedGoal[] = [];
  for (const [id, namespace] of wanted) {
    const goal = await ctx.store.getGoal(id);
    if (!goal || goal.namespace !== namespace) continue;
    const lessons = [...new Set([...goal.outcomes].reverse().flatMap((outcome) => outcome.lessons))].slice(0, MAX_LESSONS);
    goals.push({ id: goal.id, title: goal.title, status: goal.status, lessons });
  }
  return goals;
}
