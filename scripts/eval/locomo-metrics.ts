/** Retrieval metrics for the LoCoMo evaluation: Recall@k, hit@k, latency percentiles. Pure functions. */
import { CATEGORY_NAMES } from './locomo-data.js';

/** The k of the hit@k reported for every group. */
export const HIT_K = 10;

export interface ScoredQuestion {
  category: number;
  /** Recall@k for each k of the run, in the run's order. */
  recall: number[];
  /** At least one evidence turn in the top HIT_K. */
  hit: boolean;
}

export type Summary = { questions: number } & Record<string, number>;

export const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** Recall@k = |evidence ∩ top k| / |evidence| for each k, and whether any evidence is in the top HIT_K. */
export function scoreQuestion(category: number, evidence: readonly string[], ranked: readonly string[], ks: readonly number[]): ScoredQuestion {
  const wanted = new Set(evidence);
  const found = (k: number): number => ranked.slice(0, k).filter((id) => wanted.has(id)).length;
  return { category, recall: ks.map((k) => found(k) / wanted.size), hit: found(HIT_K) > 0 };
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/** Question count, mean R@k for each k and the share of hits, rounded to 3 decimals. */
export function summarise(scored: readonly ScoredQuestion[], ks: readonly number[]): Summary {
  const summary: Summary = { questions: scored.length };
  ks.forEach((k, i) => (summary[`R@${k}`] = round3(mean(scored.map((q) => q.recall[i] ?? 0)))));
  summary[`hit@${HIT_K}`] = round3(mean(scored.map((q) => (q.hit ? 1 : 0))));
  return summary;
}

/** The summary per category, keyed "<n>-<name>" (e.g. "1-multi-hop"), categories in order. */
export function summariseByCategory(scored: readonly ScoredQuestion[], ks: readonly number[]): Record<string, Summary> {
  const categories = [...new Set(scored.map((q) => q.category))].sort((a, b) => a - b);
  return Object.fromEntries(
    categories.map((c) => [`${c}-${CATEGORY_NAMES[c] ?? 'unknown'}`, summarise(scored.filter((q) => q.category === c), ks)]),
  );
}

/** The p-th percentile (0–100) by the nearest-rank method; 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}
