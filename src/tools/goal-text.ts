import type { Goal } from '../domain/goal.js';

/** One line per step of a goal's current plan, with the step id that step_updates and record_outcome need. */
export const stepLines = (goal: Goal): string[] =>
  goal.steps.map((s) => `  ${s.position}. [${s.status}] ${s.title} (${s.id})${s.result_note ? ` — ${s.result_note}` : ''}`);
