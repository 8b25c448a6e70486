import type { Goal, Outcome } from '../domain/goal.js';
import type { IndexedText } from '../domain/indexed-text.js';
import type { Memory } from '../domain/memory.js';
import type { GoalSnapshot, KeywordText } from '../store/store.js';
import type { MemoryContext } from './context.js';
import { goalSearchText, memoryKeywords, memorySearchText, stepSearchText } from './search-text.js';

/*
 * Records restored as they were (by import, by copying a tenant to another
 * store, by approving a held memory) are indexed exactly as the tools that
 * first stored them indexed them.
 */

/** Titles of a goal's steps, current and earlier plans alike, by id. */
export const stepTitles = (goal: Goal): Map<string, string> =>
  new Map([...goal.steps, ...goal.plan_history.flatMap((plan) => plan.steps)].map((step) => [step.id, step.title]));

/** What restoring records as they were needs: the store they go into, and the indexer that makes their search text and vector. */
export type Restoring = Pick<MemoryContext, 'store' | 'indexer'>;

/**
 * Index a backed-up goal's text and each step's (current and earlier plans)
 * as remember_goal indexed them, and store it as it was. False, storing
 * nothing, when a goal with its id is stored already. Its parent must be
 * stored first.
 */
export async function restoreGoalRecord(ctx: Restoring, goal: GoalSnapshot): Promise<boolean> {
  const steps = goal.plans.flatMap((plan) => plan.steps);
  const [goalText, ...stepTexts] = await ctx.indexer.index([goalSearchText(goal), ...steps.map(stepSearchText)]);
  return ctx.store.restoreGoal(goal, goalText!, new Map(steps.map((step, i) => [step.id, stepTexts[i]!])));
}

/** Note which step an outcome's memories report on (record_outcome indexed them with the step's title), by memory id. */
export function noteOutcomeStep(stepOfMemory: Map<string, string>, outcome: Pick<Outcome, 'step_id' | 'summary_memory_id' | 'lesson_memory_ids'>): void {
  if (outcome.step_id !== null) for (const id of [outcome.summary_memory_id, ...outcome.lesson_memory_ids]) stepOfMemory.set(id, outcome.step_id);
}

/**
 * What a memory is found by in the keyword index, as remember and
 * record_outcome built it: the content with the title of the goal it serves
 * (`goal`, stored already) and, for an outcome's memory, the step's title;
 * and, for a memory told when it happened (occurred_at set apart from its
 * storing), that date in words as extra keywords, with the dates its
 * relative time expressions mean, resolved against occurred_at.
 */
export function memoryKeywordText(memory: Memory, goal: { title: string; step: string | undefined } | undefined): KeywordText {
  const text = memorySearchText(memory.content, goal ? (goal.step ? `${goal.title}\n${goal.step}` : goal.title) : null);
  const keywords = memoryKeywords(memory.content, memory.occurred_at, memory.occurred_at !== memory.created_at);
  return keywords === undefined ? { text } : { text, keywords };
}

/** The texts restored memories are found by (memoryKeywordText), with their vectors. */
export async function restoredMemoryTexts(ctx: Restoring, memories: readonly Memory[], stepOfMemory: ReadonlyMap<string, string>): Promise<IndexedText[]> {
  const goals = new Map<string, Goal | undefined>();
  for (const goalId of new Set(memories.flatMap((m) => (m.goal_id ? [m.goal_id] : [])))) goals.set(goalId, await ctx.store.getGoal(goalId));
  const texts = memories.map((memory) => {
    const goal = memory.goal_id === null ? undefined : goals.get(memory.goal_id);
    const step = goal && stepOfMemory.has(memory.id) ? stepTitles(goal).get(stepOfMemory.get(memory.id)!) : undefined;
    return memoryKeywordText(memory, goal ? { title: goal.title, step } : undefined);
  });
  const indexed = await ctx.indexer.index(texts.map((text) => text.text));
  return indexed.map((entry, i) => {
    const keywords = texts[i]!.keywords;
    return keywords === undefined ? entry : { ...entry, keywords };
  });
}
