import type { Database, Statement } from 'better-sqlite3';
import { toFtsMatch } from './fts-match.js';

/** A term in more than this share of all records adds little to BM25 ranking but costs a score per record. */
const COMMON_SHARE = 0.05;
/** Below this many records every term is kept: pruning only pays on large stores. */
const MIN_COMMON_DOCS = 5000;
const CACHE_MS = 10 * 60 * 1000;

/**
 * Drops very common words from keyword queries that also have rarer ones.
 * FTS5 scores every record matching any OR-ed term, so one word present in a
 * large share of the store makes a query slow (the cost grows with the
 * store); BM25 gives such a word almost no weight, so ranking barely changes.
 * Document frequencies are counted up to the threshold only (never a full
 * scan) and cached.
 */
export class CommonTerms {
  private readonly countUpTo: Statement;
  private readonly docCount: Statement;
  private readonly cache = new Map<string, { common: boolean; at: number }>();
  private total = { docs: 0, at: 0 };

  constructor(db: Database) {
    this.countUpTo = db.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT ?)');
    this.docCount = db.prepare('SELECT count(*) AS n FROM search_docs');
  }

  private threshold(now: number): number {
    if (now - this.total.at > 60_000) this.total = { docs: (this.docCount.get() as { n: number }).n, at: now };
    return Math.max(MIN_COMMON_DOCS, Math.floor(this.total.docs * COMMON_SHARE));
  }

  /** The terms worth matching: all of them, unless some are common and others are not. */
  select(terms: readonly string[]): readonly string[] {
    if (terms.length < 2) return terms;
    const now = Date.now();
    const threshold = this.threshold(now);
    if (this.total.docs <= MIN_COMMON_DOCS) return terms;
    const rare = terms.filter((term) => !this.isCommon(term, threshold, now));
    return rare.length > 0 ? rare : terms;
  }

  private isCommon(term: string, threshold: number, now: number): boolean {
    const cached = this.cache.get(term);
    if (cached && now - cached.at < CACHE_MS) return cached.common;
    const common = (this.countUpTo.get(toFtsMatch([term]), threshold + 1) as { n: number }).n > threshold;
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(term, { common, at: now });
    return common;
  }
}
