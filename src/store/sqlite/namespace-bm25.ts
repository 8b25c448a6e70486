import type { Database, Statement } from 'better-sqlite3';
import type { KeywordHit } from '../store.js';
import { bm25Idf, bm25Share, MAX_EXTRA_OCCURRENCES, type Bm25Scorer } from './bm25.js';
import { chooseTerms, type TermPlan } from './term-budget.js';

/** The full-text tables a keyword search reads. */
export type FullTextTable = 'search_fts' | 'window_fts';

const VISIBLE = 1;
const HIDDEN = 2;

/** One namespace's rows of a full-text table. */
interface Members {
  readonly ids: number[];
  /** Per rowid: VISIBLE, HIDDEN, or 0 (undefined past the end) for a row of another namespace. */
  readonly marks: Uint8Array;
}

/** What BM25 needs to know of the rows: their count, mean length and each one's length. */
interface RowStatistics {
  readonly rows: number;
  readonly meanTokens: number;
  tokensOf(rowid: number): number;
}

/** One query word among a namespace's rows: the rows holding it (rowid order) and how often each does. */
interface WordMatches {
  readonly docs: number[];
  readonly frequencies: number[];
  /** How many tokens FTS5 makes of the word: 1 for most, more for a phrase ("e-mail"), 0 for a word it drops. */
  readonly tokens: number;
  readonly token: string | undefined;
}

/** A keyword query answered from one namespace's rows alone. */
export interface NamespaceRanking {
  /** The words matched: the row budget may leave common ones out, judged on the namespace's own counts. */
  readonly plan: TermPlan;
  /** Every candidate holding a matched word, best first, ties newest first (none when `plan.newestOnly`). */
  readonly hits: KeywordHit[];
}

/**
 * BM25 over one namespace's rows of a full-text table, for a caller that may
 * read that namespace only: every statistic comes from the namespace, never
 * from the rest of the store, so nothing in the answer depends on records the
 * caller cannot read. The row count, the mean row length and each word's
 * document count are the namespace's (superseded records included: the
 * caller may read them, and a store holding only this namespace would count
 * them too); the row budget judges words by their counts in the namespace;
 * and a word FTS5 reads as a phrase is matched here from token positions.
 * Scores are exactly those FTS5's bm25() gives in a store holding only this
 * namespace, and `matched` is set when that store's in-memory scorer would set it.
 *
 * The postings read are FTS5's, which hold every namespace's rows: the time
 * a query takes still grows with how many rows of the whole store hold its
 * words (see docs/architecture.md).
 */
export class NamespaceBm25 {
  private readonly members: Record<FullTextTable, Statement>;
  private readonly docCount: Statement;
  private readonly rankInSnapshot: (table: FullTextTable, namespace: string, words: readonly string[], includeHidden: boolean) => NamespaceRanking;
  /** Membership marks by rowid, reused between queries and cleared after each. */
  private scratch = new Uint8Array(1024);

  constructor(
    db: Database,
    private readonly scorers: Readonly<Record<FullTextTable, Bm25Scorer>>,
    private readonly budget: number,
  ) {
    this.members = {
      // Through the (namespace, hidden) index alone.
      search_fts: db.prepare('SELECT doc_id, hidden FROM search_docs WHERE namespace = ?').raw(),
      // Windows exist for visible thread memories only; the partial thread index lists those of a namespace.
      window_fts: db.prepare(`SELECT w.doc_id, 0 FROM search_docs d INDEXED BY search_docs_thread JOIN thread_windows w ON w.doc_id = d.doc_id
        WHERE d.namespace = ? AND d.thread_id IS NOT NULL`).raw(),
    };
    this.docCount = db.prepare('SELECT count(*) FROM search_docs WHERE namespace = ?').pluck();
    // One read transaction: members, lengths and postings all see the same commits.
    this.rankInSnapshot = db.transaction((table: FullTextTable, namespace: string, words: readonly string[], includeHidden: boolean) =>
      this.rankNow(table, namespace, words, includeHidden),
    );
  }

  /** The namespace's rows of `table` that hold any of the words, scored from the namespace alone (hidden rows only with `includeHidden`). */
  rank(table: FullTextTable, namespace: string, words: readonly string[], includeHidden: boolean): NamespaceRanking {
    return this.rankInSnapshot(table, namespace, words, includeHidden);
  }

  private rankNow(table: FullTextTable, namespace: string, words: readonly string[], includeHidden: boolean): NamespaceRanking {
    // The windows' words are chosen on the records' counts, as the row budget does for the whole store.
    const chosen = table === 'window_fts' ? this.plan(namespace, words, null) : null;
    if (chosen?.newestOnly) return { plan: chosen, hits: [] };
    return this.withMembers(table, namespace, (members) => {
      const matches = new Map((chosen?.terms ?? words).map((word) => [word, this.matches(table, word, members.marks)]));
      const plan = chosen ?? this.plan(namespace, words, { rows: members.ids.length, matches });
      if (plan.newestOnly) return { plan, hits: [] };
      const statistics = this.statistics(table, members.ids);
      const counted = plan.terms.length === words.length && this.scoredAsCounted(plan.terms, matches);
      return { plan, hits: this.score(statistics, plan.terms, matches, (doc) => includeHidden || members.marks[doc] === VISIBLE, counted) };
    });
  }

  /** Run `use` with the namespace's rows of `table` marked in the scratch array, cleared again after. */
  private withMembers<T>(table: FullTextTable, namespace: string, use: (members: Members) => T): T {
    const rows = this.members[table].all(namespace) as Array<[number, number]>;
    let last = 0;
    for (const [id] of rows) if (id > last) last = id;
    if (last >= this.scratch.length) this.scratch = new Uint8Array(Math.max(last + 1, this.scratch.length * 2));
    const marks = this.scratch;
    for (const [id, hidden] of rows) marks[id] = hidden ? HIDDEN : VISIBLE;
    try {
      return use({ ids: rows.map(([id]) => id), marks });
    } finally {
      // Even after a failed read: the next query must start from no marks.
      for (const [id] of rows) marks[id] = 0;
    }
  }

  /**
   * The words to match, as the row budget would choose them in a store
   * holding only this namespace: every word when the namespace is within the
   * budget, else rarest first by the namespace's own document counts (read
   * from `search_fts` postings, also for the windows).
   */
  private plan(namespace: string, words: readonly string[], own: { rows: number; matches: Map<string, WordMatches> } | null): TermPlan {
    const size = own ? own.rows : (this.docCount.get(namespace) as number);
    if (size <= this.budget) return { terms: words, newestOnly: false };
    const counts = own?.matches ?? this.withMembers('search_fts', namespace, (members) => new Map(words.map((word) => [word, this.matches('search_fts', word, members.marks)])));
    return chooseTerms(
      words.map((term) => ({ term, rows: Math.min(this.budget + 1, counts.get(term)!.docs.length) })),
      this.budget,
    );
  }

  /** Row count and mean length of the namespace's rows: from the lengths held in memory when they are current, else read now. */
  private statistics(table: FullTextTable, ids: readonly number[]): RowStatistics {
    const held = this.scorers[table].lengths;
    let tokensOf: (rowid: number) => number;
    if (held.current()) {
      held.catchUp();
      tokensOf = (rowid) => held.of(rowid);
    } else {
      // Still loading, or another process has committed since: no waiting, and no answer that could be stale.
      const read = held.readNow(ids);
      tokensOf = (rowid) => read.get(rowid) ?? 0;
    }
    let total = 0;
    for (const id of ids) total += tokensOf(id);
    return { rows: ids.length, meanTokens: ids.length === 0 ? 1 : total / ids.length, tokensOf };
  }

  /** The namespace's rows holding the word, and how often each does; a phrase's occurrences are where its tokens stand in a row. */
  private matches(table: FullTextTable, word: string, marks: Uint8Array): WordMatches {
    const scorer = this.scorers[table];
    const tokens = scorer.tokensOf(word);
    const docs: number[] = [];
    const frequencies: number[] = [];
    const count = (doc: number): void => {
      if (docs[docs.length - 1] === doc) frequencies[frequencies.length - 1]! += 1;
      else {
        docs.push(doc);
        frequencies.push(1);
      }
    };
    if (tokens.length === 1) {
      for (const doc of scorer.occurrences(tokens[0]!)) if (marks[doc]) count(doc);
    } else if (tokens.length > 1) {
      // Where each later token stands, by row; a phrase occurs where token i stands i places after the first.
      const later = tokens.slice(1).map((token) => {
        const at = new Map<number, Set<number>>();
        for (const [doc, offset] of scorer.positions(token)) {
          if (!marks[doc]) continue;
          let offsets = at.get(doc);
          if (!offsets) at.set(doc, (offsets = new Set()));
          offsets.add(offset);
        }
        return at;
      });
      for (const [doc, offset] of scorer.positions(tokens[0]!)) {
        if (marks[doc] && later.every((at, i) => at.get(doc)?.has(offset + i + 1))) count(doc);
      }
    }
    return { docs, frequencies, tokens: tokens.length, token: tokens.length === 1 ? tokens[0] : undefined };
  }

  /**
   * Whether a store holding only this namespace would count each hit's words
   * from the postings: no phrase among them, and not so many repeats within
   * rows that it leaves the query to FTS5 (see bm25.ts).
   */
  private scoredAsCounted(terms: readonly string[], matches: Map<string, WordMatches>): boolean {
    const perToken = new Map<string, WordMatches>();
    for (const term of terms) {
      const match = matches.get(term)!;
      if (match.tokens > 1) return false;
      if (match.token !== undefined) perToken.set(match.token, match);
    }
    let extra = 0;
    for (const match of perToken.values()) for (const frequency of match.frequencies) extra += frequency - 2;
    return extra <= MAX_EXTRA_OCCURRENCES;
  }

  /** BM25 of every candidate row holding a matched word, summed in the plan's word order, as FTS5 sums its phrases. */
  private score(statistics: RowStatistics, terms: readonly string[], matches: Map<string, WordMatches>, candidate: (doc: number) => boolean, counted: boolean): KeywordHit[] {
    const scores = new Map<number, number>();
    const held = new Map<number, number>();
    for (const term of terms) {
      const { docs, frequencies } = matches.get(term)!;
      if (docs.length === 0) continue;
      const idf = bm25Idf(statistics.rows, docs.length);
      for (let i = 0; i < docs.length; i++) {
        const doc = docs[i]!;
        scores.set(doc, (scores.get(doc) ?? 0) + bm25Share(idf, frequencies[i]!, statistics.tokensOf(doc), statistics.meanTokens));
        held.set(doc, (held.get(doc) ?? 0) + 1);
      }
    }
    const hits: KeywordHit[] = [];
    for (const [doc_id, score] of scores) {
      if (candidate(doc_id)) hits.push(counted ? { doc_id, score, matched: held.get(doc_id)! } : { doc_id, score });
    }
    return hits.sort((a, b) => b.score - a.score || b.doc_id - a.doc_id);
  }
}
