import type { Goal, LessonRef, Outcome, PastGoal } from '../domain/goal.js';
import { SearchRequest, type RatedHit } from '../domain/search.js';
import type { MemoryContext } from './context.js';
import { hitsToShow, rateHits } from './relevance.js';
import { searchMemory } from './search.js';
import { makeSnippet } from './snippet.js';

/** Past goals an experience shows at most, lessons of each, hits the one search reads, and how long texts may be. */
export const EXPERIENCE_GOALS = 5;
export const EXPERIENCE_LESSONS = 3;
const EXPERIENCE_HITS = 20;
const QUERY_CHARS = 1000;
const SUMMARY_CHARS = 240;
const LESSON_CHARS = 200;
/**
 * A hit found by meaning alone counts only this close to the goal's text:
 * a vector search always has a nearest record, related or not.
 */
const VECTOR_ONLY_FLOOR = 0.5;

/** Cut a text at a word boundary, on one line. */
export const trimmed = (text: string, maxChars: number): string => makeSnippet(text, [], maxChars);

/** The outcome that says how a goal ended: its newest goal-level outcome, else its newest step outcome. */
function decisiveOutcome(goal: Goal): Outcome | null {
  const newestFirst = [...goal.outcomes].reverse();
  return newestFirst.find((o) => o.step_id === null) ?? newestFirst[0] ?? null;
}

/**
 * A goal's lessons, newest outcome first, each memory once (and none in
 * `seen`, the lessons shown already under another goal), with the result each came from.
 */
export function lessonsOf(goal: Goal, max: number, seen = new Set<string>()): LessonRef[] {
  const lessons: LessonRef[] = [];
  for (const outcome of [...goal.outcomes].reverse()) {
    outcome.lessons.forEach((text, i) => {
      const id = outcome.lesson_memory_ids[i];
      if (id === undefined || seen.has(id) || lessons.length >= max) return;
      seen.add(id);
      lessons.push({ id, text: trimmed(text, LESSON_CHARS), result: outcome.result });
    });
  }
  return lessons;
}

function pastGoal(goal: Goal, seen: Set<string>): PastGoal {
  const outcome = decisiveOutcome(goal);
  return {
    goal_id: goal.id,
    title: goal.title,
    status: goal.status,
    result: outcome?.result ?? null,
    outcome_id: outcome?.id ?? null,
    summary: outcome ? trimmed(outcome.summary, SUMMARY_CHARS) : null,
    lessons: lessonsOf(goal, EXPERIENCE_LESSONS, seen),
  };
}

/**
 * The records of a goal's namespace that a search with the goal's title and
 * description finds, best first, within `filters`; vector-only hits far less
 * similar than the best (as in a search's text answer), or less than
 * VECTOR_ONLY_FLOOR, left out.
 */
export async function relatedHits(
  ctx: MemoryContext,
  goal: { namespace: string; title: string; description: string | null },
  filters: Pick<SearchRequest, 'kinds' | 'layers' | 'types' | 'limit'>,
  scope: { confined?: boolean; signal?: AbortSignal },
): Promise<RatedHit[]> {
  const query = trimmed(`${goal.title} ${goal.description ?? ''}`, QUERY_CHARS);
  const request = SearchRequest.parse({ ...filters, query, namespace: goal.namespace, snippet_chars: 40 });
  const result = await searchMemory(ctx, request, scope);
  const { shown } = hitsToShow(rateHits(result.hits, result.terms, result.mode));
  return shown.filter((hit) => hit.namespace === goal.namespace && (hit.relevance !== 'vector-only' || (hit.why.vector_similarity ?? 0) >= VECTOR_ONLY_FLOOR));
}

/** Whether a goal ended well: its deciding outcome a success, or, without outcomes, its status achieved. */
function endedWell(goal: Goal): boolean {
  const outcome = decisiveOutcome(goal);
  return outcome ? outcome.result === 'success' : goal.status === 'achieved';
}

/**
 * What the namespace's past goals say about a new one: one search with the
 * goal's title and description over goals, their plan steps and the outcomes
 * and lessons recorded for them (each indexed with its goal's title), the goals those
 * hits belong to in the order of their best hit, the new goal left out, then
 * read whole for their outcomes and lessons. Successes come first, the rest
 * keep their order; each says how it ended and, for a failure, what went
 * wrong. Hits found by meaning alone count only when close (relatedHits), so
 * unrelated goals stay out.
 */
export async function experienceFor(
  ctx: MemoryContext,
  goal: { id: string; namespace: string; title: string; description: string | null },
  scope: { confined?: boolean; signal?: AbortSignal } = {},
): Promise<PastGoal[]> {
  const related = await relatedHits(ctx, goal, { kinds: ['goal', 'step', 'lesson', 'outcome'], limit: EXPERIENCE_HITS }, scope);
  const ids: string[] = [];
  for (const hit of related) {
    const id = hit.type === 'goal' ? hit.id : hit.goal_id;
    if (id !== null && id !== goal.id && !ids.includes(id)) ids.push(id);
    if (ids.length === EXPERIENCE_GOALS) break;
  }
  const goals = await Promise.all(ids.map((id) => ctx.store.getGoal(id)));
  const found = goals.filter((g): g is Goal => g !== undefined && g.namespace === goal.namespace);
  // Successes first; a lesson merged from several goals' outcomes is shown once, under the first goal that shows it.
  const ordered = [...found.filter(endedWell), ...found.filter((g) => !endedWell(g))];
  const seen = new Set<string>();
  return ordered.map((g) => pastGoal(g, seen));
}
