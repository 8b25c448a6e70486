import type { Goal, MissedLesson, OutcomeResult } from '../domain/goal.js';
import type { MemoryContext } from './context.js';
import { relatedHits, trimmed } from './experience.js';
import { recalledSince, recallSince } from './recall.js';

/** Lessons a reflection shows at most, hits its search reads, and how long a lesson's text may be. */
export const REFLECTION_LESSONS = 5;
const REFLECTION_HITS = 10;
const LESSON_CHARS = 200;

export interface Reflection {
  /** Lessons of the namespace like the goal, not its own, that no call returned while it was worked on. */
  missed_lessons: MissedLesson[];
  /** Set when the outcome brought no lesson: asks for them. */
  reflection_note?: string;
}

/**
 * After a failure or partial result: the procedural memories of the goal's
 * namespace that a search with its title and description finds (not the
 * goal's own lessons), less those the audit trail shows some call returned
 * from an hour before the goal was created until now. The agent may have
 * missed them. With no lesson in the outcome, a note asks for some.
 */
export async function reflectOn(
  ctx: MemoryContext,
  goal: Goal,
  result: OutcomeResult,
  lessonsGiven: number,
  scope: { confined?: boolean; signal?: AbortSignal } = {},
): Promise<Reflection | null> {
  if (result === 'success') return null;
  const hits = await relatedHits(ctx, goal, { layers: ['procedural'], types: ['memory'], limit: REFLECTION_HITS }, scope);
  const candidates = hits.filter((hit) => hit.goal_id !== goal.id);
  const recalled = await recalledSince(ctx, candidates.map((hit) => hit.id), recallSince(goal));
  const missed = candidates.filter((hit) => !recalled.has(hit.id)).slice(0, REFLECTION_LESSONS);
  const texts = new Map((await ctx.store.getMemories(missed.map((hit) => hit.id))).map((m) => [m.id, m.content]));
  return {
    missed_lessons: missed.flatMap((hit) => {
      const text = texts.get(hit.id);
      return text === undefined ? [] : [{ id: hit.id, text: trimmed(text, LESSON_CHARS), goal_id: hit.goal_id }];
    }),
    ...(lessonsGiven === 0
      ? { reflection_note: `no lessons were recorded for this ${result}: what would you do differently next time? Store each as a lesson with remember (layer "procedural", kind "lesson", goal_id "${goal.id}").` }
      : {}),
  };
}
