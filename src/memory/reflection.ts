import type { Goal, MissedLesson, OutcomeResult } from '../domain/goal.js';
import type { MemoryContext } from './context.js';
import { relatedHits, trimmed } from './experience.js';

/** Lessons a reflection shows at most, hits its search reads, and how long a lesson's text may be. */
export const REFLECTION_LESSONS = 5;
const REFLECTION_HITS = 10;
const LESSON_CHARS = 200;
/** A lesson returned this long before the goal was created counts as recalled for it (read while the goal was planned). */
export const RECALL_BEFORE_MS = 60 * 60 * 1000;
/** Audit rows read a page at a time, and pages at most (each row found names a candidate). */
const AUDIT_PAGE = 500;
const AUDIT_PAGES = 20;

export interface Reflection {
  /** Lessons of the namespace like the goal, not its own, that no call returned while it was worked on. */
  missed_lessons: MissedLesson[];
  /** Set when the outcome brought no lesson: asks for them. */
  reflection_note?: string;
}

/**
 * The ids among `ids` that some call returned since `since` (the audit
 * trail's returned ids): what an agent was shown, by any tool.
 */
async function recalledSince(ctx: MemoryContext, ids: readonly string[], since: string): Promise<Set<string>> {
  const wanted = new Set(ids);
  const seen = new Set<string>();
  let before: number | undefined;
  for (let page = 0; page < AUDIT_PAGES && seen.size < wanted.size; page++) {
    const rows = await ctx.store.readAudit({ touching_any: [...wanted].filter((id) => !seen.has(id)), since, status: 'ok', limit: AUDIT_PAGE, ...(before === undefined ? {} : { before }) });
    // Returned, not touched: the call that wrote a lesson (another goal's outcome) showed it to no one.
    for (const row of rows) for (const id of row.ids_returned) if (wanted.has(id)) seen.add(id);
    if (rows.length < AUDIT_PAGE) break;
    before = rows.at(-1)!.seq;
  }
  return seen;
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
  const since = new Date(Date.parse(goal.created_at) - RECALL_BEFORE_MS).toISOString();
  const recalled = candidates.length ? await recalledSince(ctx, candidates.map((hit) => hit.id), since) : new Set<string>();
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
