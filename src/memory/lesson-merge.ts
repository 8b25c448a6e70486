import type { Layer } from '../domain/memory.js';
import { SearchRequest } from '../domain/search.js';
import type { MemoryContext } from './context.js';
import { trimmed } from './experience.js';
import { jaccard, termSet } from './goal-duplicates.js';
import { words } from './query-terms.js';
import { searchMemory } from './search.js';

/**
 * When two lessons say the same thing. Chosen on the labelled pairs of
 * test/integration/lesson-similarity.test.ts (ten rewordings of one advice,
 * ten related but different lessons on the same subject), with the bundled
 * model: the word overlap (Jaccard of the stemmed words, common words left
 * out) of the rewordings ran 0.67–1, of the different lessons 0.2–0.5, so
 * 0.6 alone; their cosines ran 0.89–1 against 0.27–0.82, so a cosine of 0.85
 * (as the search's vector leg reports it) also admits a rewording sharing
 * 0.4 of its words (the different lessons that share that many had cosines
 * up to 0.69). Advice and its negation ("never …" against "…": overlap 0.67,
 * cosine 0.93) are never the same lesson.
 */
export const SAME_BY_WORDS = 0.6;
export const SAME_BY_MEANING = 0.85;
export const WORDS_WITH_MEANING = 0.4;
/** Candidates a lesson is compared with: the best hits of one search with its text. */
const CANDIDATES = 5;

const NEGATIONS = new Set(['no', 'not', 'never', 'don', 'didn', 'doesn', 'isn', 'wasn', 'avoid', 'without', 'nor', 'cannot', 'neither']);
const negates = (text: string): boolean => words(text).some((w) => NEGATIONS.has(w));

/** How much two lessons share in words (0–1). */
export const wordOverlap = (a: string, b: string): number => jaccard(termSet(a), termSet(b));

/** Whether two lessons say the same thing, by their words and, when known, their vectors' cosine. */
export function sameLesson(a: string, b: string, cosine: number | null): boolean {
  if (negates(a) !== negates(b)) return false;
  const overlap = wordOverlap(a, b);
  return overlap >= SAME_BY_WORDS || (cosine !== null && cosine >= SAME_BY_MEANING && overlap >= WORDS_WITH_MEANING);
}

/**
 * The visible memories of a namespace and layer that say what `text` says,
 * most alike first: the best hits of one search with the text (hybrid when
 * vectors exist, so the cosine is known for those the vector leg found),
 * each checked with sameLesson.
 */
export async function findSameMemories(
  ctx: MemoryContext,
  memory: { namespace: string; layer: Layer; content: string },
  scope: { confined?: boolean; signal?: AbortSignal },
): Promise<string[]> {
  const request = SearchRequest.parse({ query: trimmed(memory.content, 1000), namespace: memory.namespace, layers: [memory.layer], types: ['memory'], limit: CANDIDATES, snippet_chars: 40 });
  const { hits } = await searchMemory(ctx, request, scope);
  const candidates = hits.filter((hit) => hit.namespace === memory.namespace && !hit.superseded);
  if (candidates.length === 0) return [];
  const contents = new Map((await ctx.store.getMemories(candidates.map((hit) => hit.id))).map((m) => [m.id, m.content]));
  return candidates.filter((hit) => {
    const content = contents.get(hit.id);
    return content !== undefined && sameLesson(memory.content, content, hit.why.vector_similarity);
  }).map((hit) => hit.id);
}

/** A visible procedural memory of the namespace that says what `text` says, or null. */
export async function findSameLesson(ctx: MemoryContext, namespace: string, text: string, scope: { confined?: boolean; signal?: AbortSignal }): Promise<string | null> {
  return (await findSameMemories(ctx, { namespace, layer: 'procedural', content: text }, scope))[0] ?? null;
}
