import type { KeywordHit, MemoryStore } from '../store/store.js';
import { resolveTimeExpressions, tellsTime, WHEN_TERM } from './time-expressions.js';
import { fallsIn, fallsWithin, namedPeriods } from './time-questions.js';

/** A memory that tells a time scores this much more for a question asking when (× 1.35). */
export const WHEN_BOOST = 0.35;
/** A memory about the period a question names (a month, a season, a year, "last week") scores this much more (× 1.5). */
export const PERIOD_BOOST = 0.5;

/**
 * Time in questions, as a boost over the keyword hits (after thread scoring,
 * so that it moves the final order):
 *
 * - A question asking when (its terms hold WHEN_TERM, see `asksWhen`) scales
 *   up the hits whose text tells a time (`tellsTime`) by 1 + WHEN_BOOST. The
 *   index term alone weighs little once many memories tell a time, and
 *   nothing in the thread windows, which weigh three times a memory's own
 *   score; a factor keeps its weight whatever the store's size.
 * - A question naming a month, season or year without a day ("…camping in
 *   June?", "…during the summer?", "…in 2022?", see `namedPeriods`) scales
 *   up by 1 + PERIOD_BOOST the hits about that period (`fallsIn`: the times
 *   their text tells resolve into it, or, telling none, they happened then).
 *   A boost, not a filter: the period a question names can be wrong, or the
 *   memory undated.
 * - So does a question naming a time relative to now ("What did I cook
 *   yesterday?", "…last week?", "…last summer?"), the expressions resolved
 *   as in a memory's text (`resolveTimeExpressions`), against `now`: the
 *   hits whose told times overlap those days, or telling none, that
 *   happened on one of them (`fallsWithin`), score 1 + PERIOD_BOOST.
 *
 * Hits are read (`describeDocs`) only when the question asks when or names a
 * time; other questions cost nothing.
 */
export async function favourTimes(store: MemoryStore, hits: readonly KeywordHit[], terms: readonly string[], question: string, now: Date = new Date()): Promise<KeywordHit[]> {
  const asks = terms.includes(WHEN_TERM);
  const periods = namedPeriods(question);
  const relative = resolveTimeExpressions(question, now);
  if (hits.length === 0 || (!asks && periods.length === 0 && relative.length === 0)) return [...hits];
  const views = new Map((await store.describeDocs(hits.map((hit) => hit.doc_id))).map((view) => [view.doc_id, view]));
  const factor = (docId: number): number => {
    const view = views.get(docId);
    if (!view) return 1;
    const told = asks && tellsTime(view.text) ? 1 + WHEN_BOOST : 1;
    const inPeriod =
      periods.some((period) => fallsIn(period, view.text, view.occurred_at)) || relative.some((time) => fallsWithin(time.first, time.last, view.text, view.occurred_at)) ? 1 + PERIOD_BOOST : 1;
    return told * inPeriod;
  };
  return hits.map((hit) => ({ doc_id: hit.doc_id, score: hit.score * factor(hit.doc_id) })).sort((a, b) => b.score - a.score);
}
