import { dateWords, dayTerm, resolvedTimeWords, saysWhen, WHEN_TERM } from './time-expressions.js';

export { dateWords };

/** The text a memory is found by: its content, plus the title of the goal it serves. */
export function memorySearchText(content: string, goalContext: string | null): string {
  return goalContext ? `${content}\n${goalContext}` : content;
}

/** The text a goal is found by. */
export function goalSearchText(goal: { title: string; description: string | null; success_criteria: readonly string[] }): string {
  return [goal.title, goal.description ?? '', ...goal.success_criteria].filter(Boolean).join('\n');
}

/** The text a plan step is found by. */
export const stepSearchText = (step: { title: string; detail: string | null }): string =>
  step.detail ? `${step.title}\n${step.detail}` : step.title;

/**
 * The extra keywords of a memory: when it happened in words (only when the
 * writer said when, `dated`), and the dates its relative time expressions
 * ("yesterday", "last week", "next month") resolve to from then, in the same
 * words; undefined when there are none.
 */
export function memoryKeywords(content: string, occurredAt: string, dated: boolean): string | undefined {
  const words = [dated ? `${dateWords(occurredAt)} ${dayTerm(occurredAt)}` : '', resolvedTimeWords(content, occurredAt), saysWhen(content, occurredAt) ? WHEN_TERM : ''].filter(Boolean).join('\n');
  return words || undefined;
}
