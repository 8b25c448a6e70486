import type { Database, Statement } from 'better-sqlite3';
import { admitsAllVisible, BROAD_SCOPE_SHARE, type KeywordHit, type KeywordQuery, type RecentQuery, type StoreFilters, type WindowHit } from '../store.js';
import type { Bm25Scorer } from './bm25.js';
import { docsJoin, filterSql, scopeOnly } from './filter-sql.js';
import { toFtsMatch } from './fts-match.js';
import { NamespaceBm25, type FullTextTable } from './namespace-bm25.js';
import { TermBudget, type TermPlan } from './term-budget.js';

/**
 * BM25 in memory when it can (bm25.ts); null leaves the query to FTS5, also
 * when scoring here failed: a search must not fail for want of a shortcut.
 */
function scoredInMemory(scorer: Bm25Scorer | null, terms: readonly string[], limit: number, keep?: (rowid: number) => boolean): KeywordHit[] | null {
  try {
    return scorer?.top(terms, limit, keep) ?? null;
  } catch {
    return null;
  }
}

/** Hits' `matched` counts only the words scored: drop it when the row budget left some of the query's terms out. */
const countedOver = (hits: KeywordHit[], scored: readonly string[], asked: readonly string[]): KeywordHit[] =>
  scored.length === asked.length ? hits : hits.map(({ doc_id, score }) => ({ doc_id, score }));

/** Namespaces up to this many docs are listed (about 2 ms at 20,000) for a keyword search scored in memory. */
const MAX_LISTED_SCOPE = 20_000;

/** The most best matches a broad-scope keyword search filters before joining every match instead. */
const MAX_FILTER_DEPTH = 1000;

/** A keyword search confined to a namespace checks its ranked hits against the other filters this many at a time (at least). */
const CONFINED_FILTER_SLICE = 100;

/** BM25 computed in memory for each full-text table (null: leave it to FTS5). */
export interface Bm25Scorers {
  readonly search_fts: Bm25Scorer | null;
  readonly window_fts: Bm25Scorer | null;
}

/** Keyword search over FTS5, the filter-only listing, and hit display data. */
export class SearchRows {
  private readonly termBudget: TermBudget;
  private readonly threadOf: Statement;
  private readonly bestMatches: Statement;
  private readonly bestWindows: Statement;
  private readonly windowMembers: Statement;
  private readonly before: Statement;
  private readonly after: Statement;
  private readonly visibleMemories: Statement;
  private readonly hiddenMemories: Statement;
  private readonly visibleInNamespace: Statement;
  private readonly visibleNamespaceDocs: Statement;
  /** Keyword search for callers confined to one namespace: scored from that namespace alone. */
  private readonly namespaceOnly: NamespaceBm25 | null;

  constructor(
    private readonly db: Database,
    private readonly scorers: Bm25Scorers,
    rowBudget?: number,
    /** How many full-text rows this process has written or removed so far (see namespace-bm25.ts). */
    localChanges: () => number = () => 0,
  ) {
    this.termBudget = new TermBudget(db, rowBudget);
    const { search_fts, window_fts } = scorers;
    this.namespaceOnly = search_fts && window_fts ? new NamespaceBm25(db, { search_fts, window_fts }, this.termBudget.budget, localChanges) : null;
    this.hiddenMemories = db.prepare('SELECT COALESCE(SUM(n), 0) AS n FROM memory_counts WHERE superseded = 1');
    this.visibleMemories = db.prepare('SELECT COALESCE(SUM(n), 0) AS n FROM memory_counts WHERE superseded = 0');
    this.visibleInNamespace = db.prepare('SELECT COALESCE(SUM(n), 0) AS n FROM memory_counts WHERE namespace = ? AND superseded = 0');
    this.visibleNamespaceDocs = db.prepare('SELECT doc_id FROM search_docs WHERE namespace = ? AND hidden = 0').pluck();
    this.threadOf = db.prepare('SELECT namespace, thread_id, thread_position FROM search_docs WHERE doc_id = ?');
    this.bestMatches = db.prepare('SELECT rowid AS doc_id, -bm25(search_fts) AS score FROM search_fts WHERE search_fts MATCH ? ORDER BY bm25(search_fts), rowid DESC LIMIT ?');
    this.windowMembers = db.prepare('SELECT doc_id, before_doc, after_doc FROM thread_windows WHERE doc_id IN (SELECT value FROM json_each(?))');
    this.bestWindows = db.prepare('SELECT rowid AS doc_id, -bm25(window_fts) AS score FROM window_fts WHERE window_fts MATCH ? ORDER BY bm25(window_fts), rowid DESC LIMIT ?');
    // Neighbours by order, not by numeric distance: positions may have gaps.
    this.before = db.prepare(`SELECT doc_id FROM search_docs WHERE namespace = ? AND thread_id = ? AND thread_position < ? AND hidden = 0
      ORDER BY thread_position DESC LIMIT ?`);
    this.after = db.prepare(`SELECT doc_id FROM search_docs WHERE namespace = ? AND thread_id = ? AND thread_position > ? AND hidden = 0
      ORDER BY thread_position ASC LIMIT ?`);
  }

  threadNeighbours(docIds: readonly number[], radius: number): Array<{ center: number; doc_id: number; offset: number }> {
    const out: Array<{ center: number; doc_id: number; offset: number }> = [];
    for (const center of docIds) {
      const doc = this.threadOf.get(center) as { namespace: string; thread_id: string | null; thread_position: number | null } | undefined;
      if (!doc || doc.thread_id === null || doc.thread_position === null) continue;
      const before = this.before.all(doc.namespace, doc.thread_id, doc.thread_position, radius) as Array<{ doc_id: number }>;
      const after = this.after.all(doc.namespace, doc.thread_id, doc.thread_position, radius) as Array<{ doc_id: number }>;
      before.forEach((row, i) => out.push({ center, doc_id: row.doc_id, offset: -(i + 1) }));
      after.forEach((row, i) => out.push({ center, doc_id: row.doc_id, offset: i + 1 }));
    }
    return out;
  }

  scopeSize(filters: StoreFilters): { docs: number; share: number } {
    const total = (this.visibleMemories.get() as { n: number }).n;
    if (filters.namespace === null) return { docs: total, share: 1 };
    const docs = (this.visibleInNamespace.get(filters.namespace) as { n: number }).n;
    return { docs, share: total === 0 ? 1 : docs / total };
  }

  /** About the share of docs a search over the whole store keeps: all but superseded memories. */
  private visibleShare(): number {
    const docs = this.termBudget.storeSize();
    const hidden = (this.hiddenMemories.get() as { n: number }).n;
    return docs === 0 ? 1 : Math.max(0, docs - hidden) / docs;
  }

  admit(docIds: readonly number[], filters: StoreFilters): Set<number> {
    if (docIds.length === 0) return new Set();
    const where = filterSql(filters);
    const sql = `SELECT d.doc_id FROM search_docs d WHERE d.doc_id IN (SELECT value FROM json_each(?)) AND ${where.sql}`;
    return new Set(this.db.prepare(sql).pluck().all(JSON.stringify(docIds), ...where.params) as number[]);
  }

  /**
   * BM25 over FTS5, filtered. Without selective filters: first the best
   * matches from the full-text index alone (scoring without a join per
   * matching row is about twice as fast), then the filters on just those,
   * falling back when too few pass. In a small namespace: its docs listed,
   * the best of them. Otherwise every match scored with the filters joined
   * in. Scores are computed in memory (bm25.ts) once the row lengths are
   * loaded, by FTS5 before. Either way the words matched are chosen within a
   * row budget (see term-budget.ts).
   */
  keyword(query: KeywordQuery): KeywordHit[] {
    if (query.filters.confined) return this.confinedToNamespace('search_fts', query);
    const plan = this.termBudget.plan(query.terms);
    return countedOver(this.ranked('search_fts', this.bestMatches, query, plan), plan.terms, query.terms);
  }

  /** The same over the thread windows (migration 0006): each hit is a window's middle memory. */
  windows(query: KeywordQuery): WindowHit[] {
    // Stores without threads (the usual case) have no windows: skip the word lookups. A confined search
    // looks in its namespace whatever the store holds, so that its time does not tell whether others have threads.
    if (!query.filters.confined && this.scorers.window_fts?.empty()) return [];
    const hits = query.filters.confined
      ? this.confinedToNamespace('window_fts', query)
      : this.ranked('window_fts', this.bestWindows, query, this.termBudget.plan(query.terms));
    const members = new Map(
      (this.windowMembers.all(JSON.stringify(hits.map((hit) => hit.doc_id))) as Array<{ doc_id: number; before_doc: number | null; after_doc: number | null }>).map((row) => [row.doc_id, row]),
    );
    return hits.map(({ doc_id, score }) => ({ doc_id, score, before: members.get(doc_id)?.before_doc ?? null, after: members.get(doc_id)?.after_doc ?? null }));
  }

  private ranked(table: 'search_fts' | 'window_fts', best: Statement, query: KeywordQuery, plan: TermPlan): KeywordHit[] {
    const match = toFtsMatch(plan.terms);
    if (plan.newestOnly) return this.newestMatches(table, match, query);
    // Over the whole store, or a namespace holding much of it (often all of it: "default"), take the
    // best matches and keep those that pass; joining every match to its doc would cost far more.
    const scope = admitsAllVisible(query.filters) ? { docs: Number.NaN, share: this.visibleShare() } : this.scopeSize(query.filters);
    const share = scope.share;
    const scorer = this.scorers[table];
    // The listing reads visible docs only, which is what the count measured.
    const listable = query.filters.namespace !== null && !query.filters.include_superseded && scope.docs <= MAX_LISTED_SCOPE;
    if (scorer && share < BROAD_SCOPE_SHARE && listable) {
      const hits = this.inListedNamespace(scorer, plan.terms, query);
      if (hits) return hits;
    }
    if (share >= BROAD_SCOPE_SHARE) {
      // Twice what should pass: FTS5 keeps the best `depth` in a sorter, and at a million
      // the top 200 cost about 0.4 ms more than the top 100.
      const depth = Math.min(MAX_FILTER_DEPTH, Math.ceil((query.limit * 2) / share));
      const top = scoredInMemory(scorer, plan.terms, depth) ?? (best.all(match, depth) as KeywordHit[]);
      // Filter in slices expected to hold `limit` passing hits: usually the first slice is enough.
      const sliceSize = Math.ceil(query.limit / share);
      const passing: KeywordHit[] = [];
      for (let start = 0; start < top.length && passing.length < query.limit; start += sliceSize) {
        const slice = top.slice(start, start + sliceSize);
        const admitted = this.admit(
          slice.map((hit) => hit.doc_id),
          query.filters,
        );
        passing.push(...slice.filter((hit) => admitted.has(hit.doc_id)));
      }
      if (passing.length >= query.limit || top.length < depth) return passing.slice(0, query.limit);
    }
    const where = filterSql(query.filters);
    const sql = `SELECT ${table}.rowid AS doc_id, -bm25(${table}) AS score
      FROM ${table} JOIN ${docsJoin(query.filters)} ON d.doc_id = ${table}.rowid
      WHERE ${table} MATCH ? AND ${where.sql}
      ORDER BY bm25(${table}), ${table}.rowid DESC LIMIT ?`;
    return this.db.prepare(sql).all(match, ...where.params, query.limit) as KeywordHit[];
  }

  /**
   * A caller that may read only the filters' namespace: BM25 from that
   * namespace's rows alone (namespace-bm25.ts), its best hits then checked
   * against the other filters (superseded records among them); or, when the
   * namespace's own counts leave only the rarest word's newest matches, those.
   */
  private confinedToNamespace(table: FullTextTable, query: KeywordQuery): KeywordHit[] {
    const { filters } = query;
    if (filters.namespace === null) throw new Error('a search confined to a namespace must name it');
    if (!this.namespaceOnly) throw new Error(`no in-memory BM25 for ${table}: a search confined to a namespace cannot be scored`);
    const { plan, hits } = this.namespaceOnly.rank(table, filters.namespace, query.terms);
    if (plan.newestOnly) return this.newestMatches(table, toFtsMatch(plan.terms), query);
    if (scopeOnly(filters) && filters.include_superseded) return hits.slice(0, query.limit);
    const passing: KeywordHit[] = [];
    const sliceSize = Math.max(CONFINED_FILTER_SLICE, query.limit * 4);
    for (let start = 0; start < hits.length && passing.length < query.limit; start += sliceSize) {
      const slice = hits.slice(start, start + sliceSize);
      const admitted = this.admit(
        slice.map((hit) => hit.doc_id),
        filters,
      );
      passing.push(...slice.filter((hit) => admitted.has(hit.doc_id)));
    }
    return passing.slice(0, query.limit);
  }

  /**
   * A small namespace: its docs listed from the scope index, the best matches
   * among them scored in memory, then the other filters on those. Null when
   * the scorer cannot, or too few pass the other filters: the caller joins
   * every match to its doc instead.
   */
  private inListedNamespace(scorer: Bm25Scorer, terms: readonly string[], query: KeywordQuery): KeywordHit[] | null {
    const filters = query.filters;
    const members = new Set(this.visibleNamespaceDocs.all(filters.namespace) as number[]);
    const depth = scopeOnly(filters) ? query.limit : Math.min(MAX_FILTER_DEPTH, query.limit * 4);
    const top = scoredInMemory(scorer, terms, depth, (doc) => members.has(doc));
    if (top === null) return null;
    if (scopeOnly(filters)) return top;
    const admitted = this.admit(
      top.map((hit) => hit.doc_id),
      filters,
    );
    const passing = top.filter((hit) => admitted.has(hit.doc_id));
    return passing.length >= query.limit || top.length < depth ? passing.slice(0, query.limit) : null;
  }

  /**
   * The newest matches, unranked (equal scores, newest first): what a query
   * whose rarest word is in a large share of the store can afford. BM25 is
   * not an option there: FTS5 counts every row holding each word for its
   * IDF, so even scoring a few rows costs time in proportion to the word's
   * frequency (about 25 ms for a word in 660,000 of 1M records).
   */
  private newestMatches(table: 'search_fts' | 'window_fts', match: string, query: KeywordQuery): KeywordHit[] {
    const where = filterSql(query.filters);
    const sql = `SELECT ${table}.rowid AS doc_id, 1 AS score
      FROM ${table} JOIN ${docsJoin(query.filters)} ON d.doc_id = ${table}.rowid
      WHERE ${table} MATCH ? AND ${where.sql}
      ORDER BY ${table}.rowid DESC LIMIT ?`;
    return this.db.prepare(sql).all(match, ...where.params, query.limit) as KeywordHit[];
  }

  recent(query: RecentQuery): KeywordHit[] {
    const where = filterSql(query.filters);
    const column = query.filters.time_field === 'created_at' ? 'd.created_at' : 'd.occurred_at';
    const sql = `SELECT d.doc_id AS doc_id, 0 AS score FROM search_docs d WHERE ${where.sql}
      ORDER BY ${column} DESC, d.doc_id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...where.params, query.limit) as KeywordHit[];
  }
}
