import type { Goal, OutcomeResult } from '../domain/goal.js';
import type { AuditQuery, NumberedAuditRow } from '../store/store.js';
import type { MemoryContext } from './context.js';

/** A memory returned this long before a goal was created counts as recalled for it (read while the goal was planned). */
export const RECALL_BEFORE_MS = 60 * 60 * 1000;
/** Audit rows read a page at a time, and pages at most: a scan reads at most 10,000 rows. */
const AUDIT_PAGE = 500;
const AUDIT_PAGES = 20;
/** Ids a principal was returned that recalledFor looks at, at most (the newest calls'). */
const RETURNED_IDS = 2000;

/** When a goal's recall window opens: RECALL_BEFORE_MS before it was created. */
export const recallSince = (goal: { created_at: string }): string => new Date(Date.parse(goal.created_at) - RECALL_BEFORE_MS).toISOString();

/**
 * Read the audit trail's rows that pass `filter` (asked again before each
 * page), newest first, a page at a time and at most AUDIT_PAGES pages,
 * handing each page to `visit`; stops early when it returns false.
 */
async function scanAudit(ctx: MemoryContext, filter: () => Omit<AuditQuery, 'limit' | 'before'>, visit: (rows: readonly NumberedAuditRow[]) => boolean): Promise<void> {
  let before: number | undefined;
  for (let page = 0; page < AUDIT_PAGES; page++) {
    const rows = await ctx.store.readAudit({ ...filter(), limit: AUDIT_PAGE, ...(before === undefined ? {} : { before }) });
    if (!visit(rows) || rows.length < AUDIT_PAGE) return;
    before = rows.at(-1)!.seq;
  }
}

/**
 * The ids among `ids` that some call returned since `since` (the audit
 * trail's returned ids, successful calls): what an agent was shown, by any tool.
 */
export async function recalledSince(ctx: MemoryContext, ids: readonly string[], since: string): Promise<Set<string>> {
  const wanted = new Set(ids);
  const seen = new Set<string>();
  if (wanted.size === 0) return seen;
  await scanAudit(ctx, () => ({ touching_any: [...wanted].filter((id) => !seen.has(id)), since, status: 'ok' }), (rows) => {
    // Returned, not touched: the call that wrote a lesson (another goal's outcome) showed it to no one.
    for (const row of rows) for (const id of row.ids_returned) if (wanted.has(id)) seen.add(id);
    return seen.size < wanted.size;
  });
  return seen;
}

/**
 * Every id the principal's successful calls returned since `since`, each
 * once, newest call first: what that agent was shown (by any tool) while
 * it worked on a goal.
 */
export async function returnedTo(ctx: MemoryContext, principalId: string, since: string, max = RETURNED_IDS): Promise<string[]> {
  const returned = new Set<string>();
  await scanAudit(ctx, () => ({ principal_id: principalId, since, status: 'ok' }), (rows) => {
    for (const row of rows) for (const id of row.ids_returned) if (returned.size < max) returned.add(id);
    return returned.size < max;
  });
  return [...returned];
}

/** Whether an outcome decides its goal: a goal-level success or failure (a partial one, or a step's, leaves it to go on). */
export const decidesGoal = (outcome: { step_id: string | null; result: OutcomeResult }): boolean => outcome.step_id === null && outcome.result !== 'partial';

/**
 * The procedural memories of the goal's namespace that the principal's
 * calls returned from RECALL_BEFORE_MS before the goal was created until
 * now: what it recalled for the goal, whose deciding outcome they preceded.
 * The audit trail records no goal for a search, so every call of the
 * principal in that time counts.
 */
export async function recalledFor(ctx: MemoryContext, goal: Pick<Goal, 'namespace' | 'created_at'>, principalId: string): Promise<string[]> {
  const ids = await returnedTo(ctx, principalId, recallSince(goal));
  const memories = await ctx.store.getMemories(ids);
  return memories.filter((m) => m.layer === 'procedural' && m.namespace === goal.namespace).map((m) => m.id);
}
