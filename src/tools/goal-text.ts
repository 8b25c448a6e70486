import type { Goal, PastGoal } from '../domain/goal.js';

/** One line per step of a goal's current plan, with the step id that step_updates and record_outcome need. */
export const stepLines = (goal: Goal): string[] =>
  goal.steps.map((s) => `  ${s.position}. [${s.status}] ${s.title} (${s.id})${s.result_note ? ` — ${s.result_note}` : ''}`);

const RESULT_MARK = { success: 'succeeded', failure: 'FAILED', partial: 'partly done' } as const;

/** The experience of past goals in a few lines: how each ended (what went wrong, for a failure), then its lessons with their ids. */
export function experienceLines(past: readonly PastGoal[]): string[] {
  if (past.length === 0) return [];
  return [
    `experience from ${past.length} similar past goal${past.length === 1 ? '' : 's'} (successes first):`,
    ...past.flatMap((p) => [
      `- ${p.goal_id} "${p.title}" [${p.status}]: ${p.result ? RESULT_MARK[p.result] : 'no outcome recorded'}${p.result && p.result !== 'success' && p.summary ? `: ${p.summary}` : ''}`,
      ...p.lessons.map((l) => `    lesson ${l.id}${l.result === 'success' ? '' : ` (from a ${l.result})`}: ${l.text}`),
    ]),
  ];
}
