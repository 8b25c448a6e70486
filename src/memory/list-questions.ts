import type { KeywordHit, MemoryStore } from '../store/store.js';
import { words } from './query-terms.js';

/** Verbs that follow the thing a question asks about: "what books HAS…", "which cities DID…". */
const VERBS = new Set(['has', 'have', 'had', 'does', 'do', 'did', 'are', 'were', 'is', 'was', 'can', 'could', 'would', 'will']);
/** Words ending in "s" that are no plural noun. */
const NOT_PLURAL = new Set(['this', 'his', 'its', 'hers', 'ours', 'yours', 'theirs', 'always', 'various', 'previous', 'plus', 'across', 'unless', 'towards', 'perhaps', 'news']);
/** How far into a question its plural noun may stand: "what LGBTQ events has", "which classical musicians does". */
const NOUN_SPAN = 4;

const plural = (word: string): boolean => word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !NOT_PLURAL.has(word);

/**
 * Whether a question asks for several things that memories tell one at a
 * time, often in different conversations: a plural noun before the verb
 * ("What books has X read?", "Which cities has X visited?"), "what has/have"
 * ("What has X painted?"), "what kinds/types of", "how many", "in what ways",
 * "what are some", or two people compared ("both", "in common"). A question
 * about one thing ("What kind of…", "Which song…") is not a list.
 */
export function asksForList(query: string): boolean {
  const w = words(query);
  if (w.length < 3) return false;
  const text = w.join(' ');
  if (/^how many |^in what ways |^what are some |\bboth\b|\bin common\b/.test(text)) return true;
  if (w[0] !== 'what' && w[0] !== 'which') return false;
  if (w[1] === 'has' || w[1] === 'have') return true;
  if (w[1] === 'kinds' || w[1] === 'types' || w[1] === 'sorts') return true;
  for (let i = 1; i + 1 < w.length && i <= NOUN_SPAN; i++) {
    if (VERBS.has(w[i]!)) return false;
    if (plural(w[i]!) && VERBS.has(w[i + 1]!)) return true;
  }
  return false;
}

/** How list questions are ranked (see spreadOverThreads and search.ts). */
export interface ListBreadth {
  /** Hits of one thread kept as they score before the next ones are damped. */
  readonly free: number;
  /** Each further hit of a thread scores `damp` times less than the one before it from that thread. */
  readonly damp: number;
  /** How many of the best hits are reordered. */
  readonly depth: number;
  /** The speaker boost of a list question, as a multiple of the usual one. */
  readonly speakerFactor: number;
}

/**
 * Measured on the LoCoMo dev split, checked on validation (docs/retrieval.md):
 * two hits per thread free, then 0.8× per further hit, over the best 50; the
 * named speaker's boost three times the usual one.
 */
export const LIST_BREADTH: ListBreadth = { free: 2, damp: 0.8, depth: 50, speakerFactor: 3 };

/**
 * Spread the best hits of a list question over threads. The top of a keyword
 * ranking fills with turns of one conversation, all matching the same words,
 * while a list's items were told in different ones. Walking the best `depth`
 * hits best first, a thread's first `free` hits keep their score and each
 * further one is damped once more (`damp`^n); hits outside threads are left
 * alone, and so is everything below `depth`. Only for list questions: for a
 * question about one thing the answer's thread neighbours are often the
 * evidence, and the same spread over all questions lost recall.
 */
export async function spreadOverThreads(store: MemoryStore, hits: readonly KeywordHit[], breadth: ListBreadth = LIST_BREADTH): Promise<KeywordHit[]> {
  if (hits.length <= breadth.free || breadth.damp >= 1) return [...hits];
  const head = hits.slice(0, breadth.depth);
  const views = await store.describeDocs(head.map((hit) => hit.doc_id));
  const threadOf = new Map(views.map((view) => [view.doc_id, view.thread_id === null ? null : JSON.stringify([view.namespace, view.thread_id])]));
  const kept = new Map<string, number>();
  const damped = head.map((hit) => {
    const thread = threadOf.get(hit.doc_id) ?? null;
    if (thread === null) return hit;
    const before = kept.get(thread) ?? 0;
    kept.set(thread, before + 1);
    return before < breadth.free ? hit : { ...hit, score: hit.score * breadth.damp ** (before - breadth.free + 1) };
  });
  return [...damped.sort((a, b) => b.score - a.score), ...hits.slice(breadth.depth)];
}
