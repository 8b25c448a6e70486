import type { Database, Statement } from 'better-sqlite3';
import { toFtsMatch } from './fts-match.js';

/**
 * Rows a keyword query may score by default: about 4 ms at a million memories with BM25
 * computed in memory (bm25.ts; 12 ms when FTS5 scored them). 30,000 would agree more with
 * unbounded BM25 at a million (0.89 of the top 10 against 0.81) for about 1.3 ms more per hybrid search.
 */
export const DEFAULT_ROW_BUDGET = 20_000;
const CACHE_MS = 10 * 60 * 1000;
const MAX_CACHED_TERMS = 50_000;

/** Which words a keyword query matches, and whether only its newest matches are scored. */
export interface TermPlan {
  readonly terms: readonly string[];
  /** The rarest word alone matches more rows than the budget: return its newest matches, unranked. */
  readonly newestOnly: boolean;
}

/**
 * The words to match, rarest first while the rows they match stay within the
 * budget (counts need only be exact up to budget + 1); only the newest
 * matches of the rarest when it alone is over. Ties keep the query's order.
 */
export function chooseTerms(counted: ReadonlyArray<{ term: string; rows: number }>, budget: number): TermPlan {
  const chosen: string[] = [];
  let sum = 0;
  for (const { term, rows } of [...counted].sort((a, b) => a.rows - b.rows)) {
    if (chosen.length > 0 && sum + rows > budget) break;
    chosen.push(term);
    sum += rows;
  }
  return { terms: chosen, newestOnly: sum > budget };
}

/**
 * Keeps the cost of a keyword query bounded as the store grows. FTS5 scores
 * every record that matches any OR-ed word, so a query's cost is the sum of
 * its words' document counts. Words are taken rarest first while that sum
 * stays within the row budget; the commoner words left out carry the least
 * BM25 weight (and still count in the soft-AND reward, which looks at every
 * query word). When even the rarest word matches more rows than the budget,
 * its newest matches are returned unranked, for soft AND to order. Document counts are counted up to the
 * budget only (never a full scan) and cached. Stores smaller than the budget
 * always match every word.
 */
export class TermBudget {
  private readonly countUpTo: Statement;
  private readonly docCount: Statement;
  private readonly cache = new Map<string, { rows: number; at: number }>();

  constructor(
    db: Database,
    readonly budget: number = DEFAULT_ROW_BUDGET,
  ) {
    this.countUpTo = db.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT ?)');
    // Kept by triggers (migration 0010): counting the docs took about 30 ms at a million.
    this.docCount = db.prepare("SELECT COALESCE((SELECT n FROM row_counts WHERE name = 'search_docs'), 0) AS n");
  }

  /** How many docs the store holds (a trigger-kept counter). */
  storeSize(): number {
    return (this.docCount.get() as { n: number }).n;
  }

  plan(terms: readonly string[]): TermPlan {
    if (this.storeSize() <= this.budget) return { terms, newestOnly: false };
    const now = Date.now();
    return chooseTerms(
      terms.map((term) => ({ term, rows: this.rows(term, now) })),
      this.budget,
    );
  }

  /** Rows matching the word, counted up to budget + 1. */
  private rows(term: string, now: number): number {
    const cached = this.cache.get(term);
    if (cached && now - cached.at < CACHE_MS) return cached.rows;
    const rows = (this.countUpTo.get(toFtsMatch([term]), this.budget + 1) as { n: number }).n;
    if (this.cache.size >= MAX_CACHED_TERMS) this.cache.clear();
    this.cache.set(term, { rows, at: now });
    return rows;
  }
}
