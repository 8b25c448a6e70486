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

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A date in words ("8 May 2023"), so "when…" and "in May" queries match the keyword index. */
export function dateWords(iso: string): string {
  const date = new Date(iso);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}
