import { queryTerms } from './query-terms.js';

export interface DuplicateGoal {
  id: string;
  title: string;
  similarity: number;
}

const SIMILAR_ENOUGH = 0.5;
const MAX_REPORTED = 3;

/** A crude stem so "deploying"/"deploys"/"deploy" compare equal. */
function stem(word: string): string {
  for (const suffix of ['ing', 'ed', 'es', 's']) {
    if (word.length > suffix.length + 3 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
  }
  return word;
}

export const termSet = (text: string): Set<string> => new Set(queryTerms(text).map(stem));

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const t of a) if (b.has(t)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/**
 * Active goals whose title looks like the new one (word overlap of the titles,
 * or of title plus description when the titles alone are close). Reported, not
 * enforced: the caller decides whether it really is the same goal.
 */
export function findDuplicateGoals(
  goal: { title: string; description: string | null },
  active: ReadonlyArray<{ id: string; title: string; description: string | null }>,
): DuplicateGoal[] {
  const title = termSet(goal.title);
  const full = termSet(`${goal.title} ${goal.description ?? ''}`);
  return active
    .map((other) => ({
      id: other.id,
      title: other.title,
      similarity: Math.max(
        jaccard(title, termSet(other.title)),
        jaccard(full, termSet(`${other.title} ${other.description ?? ''}`)),
      ),
    }))
    .filter((d) => d.similarity >= SIMILAR_ENOUGH)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, MAX_REPORTED)
    .map((d) => ({ ...d, similarity: Math.round(d.similarity * 100) / 100 }));
}
