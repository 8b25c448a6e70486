import type { Database, Statement } from 'better-sqlite3';
import type { KeywordHit } from '../store.js';
import { bm25Idf, bm25Share, MAX_EXTRA_OCCURRENCES, type Bm25Scorer } from './bm25.js';
import { chooseTerms, type TermPlan } from './term-budget.js';

/** The full-text tables a keyword search reads. */
export type FullTextTable = 'search_fts' | 'window_fts';

/** Namespaces whose rows are kept between queries (listing 10,000 rows took about 3 ms). */
const CACHED_NAMESPACES = 16;

/** Row ids as bits: membership in constant time, at a bit per rowid up to the largest (125 kB for a million). */
class RowSet {
  private readonly bits: Uint32Array;

  constructor(ids: readonly number[]) {
    let last = 0;
    for (const id of ids) if (id > last) last = id;
    this.bits = new Uint32Array((last >>> 5) + 1);
    for (const id of ids) this.bits[id >>> 5]! |= 1 << (id & 31);
  }

  has(id: number): boolean {
    return ((this.bits[id >>> 5] ?? 0) & (1 << (id & 31))) !== 0;
  }
}

/** One namespace's rows of a full-text table, as of `version`. */
interface NamespaceRows {
  readonly ids: RowSet;
  readonly rows: number;
  readonly totalTokens: number;
  readonly version: string;
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
  /**
   * Every row of the namespace holding a matched word, superseded ones
   * included (the caller filters), best first, ties newest first; none when
   * `plan.newestOnly`.
   */
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
 * A namespace's rows and their token total are kept between queries until
 * this process changes a full-text row (`localChanges` moves) or another
 * commits (SQLite's data_version moves). The postings read are FTS5's, which
 * hold every namespace's rows: the time a query takes still grows with how
 * many rows of the whole store hold its words (see docs/architecture.md).
 */
export class NamespaceBm25 {
  private readonly listing: Record<FullTextTable, Statement>;
  private readonly dataVersion: Statement;
  private readonly cache = new Map<string, NamespaceRows>();
  private readonly rankInSnapshot: (table: FullTextTable, namespace: string, words: readonly string[]) => NamespaceRanking;

  constructor(
    db: Database,
    private readonly scorers: Readonly<Record<FullTextTable, Bm25Scorer>>,
    private readonly budget: number,
    /** How many full-text rows this process has written or removed so far. */
    private readonly localChanges: () => number,
  ) {
    this.listing = {
      // Through the (namespace, hidden) index alone.
      search_fts: db.prepare('SELECT doc_id FROM search_docs WHERE namespace = ?').pluck(),
      // Windows exist for visible thread memories only; the partial thread index lists those of a namespace.
      window_fts: db
        .prepare(`SELECT w.doc_id FROM search_docs d INDEXED BY search_docs_thread JOIN thread_windows w ON w.doc_id = d.doc_id
          WHERE d.namespace = ? AND d.thread_id IS NOT NULL`)
        .pluck(),
    };
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    // One read transaction: rows, lengths and postings all see the same commits.
    this.rankInSnapshot = db.transaction((table: FullTextTable, namespace: string, words: readonly string[]) => this.rankNow(table, namespace, words));
  }

  /** The namespace's rows of `table` that hold any of the words, scored from the namespace alone. */
  rank(table: FullTextTable, namespace: string, words: readonly string[]): NamespaceRanking {
    return this.rankInSnapshot(table, namespace, words);
  }

  private rankNow(table: FullTextTable, namespace: string, words: readonly string[]): NamespaceRanking {
    // The windows' words are chosen on the records' counts, as the row budget does for the whole store.
    const chosen = table === 'window_fts' ? this.plan(namespace, words, null) : null;
    if (chosen?.newestOnly) return { plan: chosen, hits: [] };
    const members = this.rowsOf(table, namespace);
    const matches = new Map((chosen?.terms ?? words).map((word) => [word, this.matches(table, word, members.ids)]));
    const plan = chosen ?? this.plan(namespace, words, matches);
    if (plan.newestOnly) return { plan, hits: [] };
    const counted = plan.terms.length === words.length && this.scoredAsCounted(plan.terms, matches);
    return { plan, hits: this.score(table, members, plan.terms, matches, counted) };
  }

  /** The namespace's rows of the table and their token total: kept while nothing has changed, else listed again. */
  private rowsOf(table: FullTextTable, namespace: string): NamespaceRows {
    const version = `${this.dataVersion.get() as number}:${this.localChanges()}`;
    const key = `${table}\u0000${namespace}`;
    const cached = this.cache.get(key);
    this.cache.delete(key);
    if (cached?.version === version) {
      this.cache.set(key, cached);
      return cached;
    }
    const ids = this.listing[table].all(namespace) as number[];
    const tokensOf = this.lengths(table, ids);
    let totalTokens = 0;
    for (const id of ids) totalTokens += tokensOf(id);
    const rows = { ids: new RowSet(ids), rows: ids.length, totalTokens, version };
    if (this.cache.size >= CACHED_NAMESPACES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, rows);
    return rows;
  }

  /**
   * These rows' lengths: from the lengths held in memory when they are
   * current, else read from the table now (still loading, or another process
   * has committed since: no waiting, and no answer that could be stale).
   */
  private lengths(table: FullTextTable, ids: readonly number[]): (rowid: number) => number {
    const held = this.scorers[table].lengths;
    if (held.current() && held.catchUp()) {
      return (rowid) => held.of(rowid);
    }
    const read = held.readNow(ids);
    return (rowid) => read.get(rowid) ?? 0;
  }

  /**
   * The words to match, as the row budget would choose them in a store
   * holding only this namespace: every word when the namespace is within the
   * budget, else rarest first by the namespace's own document counts (from
   * `search_fts`, also for the windows).
   */
  private plan(namespace: string, words: readonly string[], own: Map<string, WordMatches> | null): TermPlan {
    const records = this.rowsOf('search_fts', namespace);
    if (records.rows <= this.budget) return { terms: words, newestOnly: false };
    const counts = own ?? new Map(words.map((word) => [word, this.matches('search_fts', word, records.ids)]));
    return chooseTerms(
      words.map((term) => ({ term, rows: Math.min(this.budget + 1, counts.get(term)!.docs.length) })),
      this.budget,
    );
  }

  /** The namespace's rows holding the word, and how often each does; a phrase occurs where its tokens stand one after another. */
  private matches(table: FullTextTable, word: string, members: RowSet): WordMatches {
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
      for (const doc of scorer.occurrences(tokens[0]!)) if (members.has(doc)) count(doc);
    } else if (tokens.length > 1) {
      // Where each later token stands, by row: the phrase occurs where token i stands i places after the first.
      const later = tokens.slice(1).map((token) => {
        const at = new Map<number, Set<number>>();
        for (const [doc, offset] of scorer.positions(token)) {
          if (!members.has(doc)) continue;
          let offsets = at.get(doc);
          if (!offsets) at.set(doc, (offsets = new Set()));
          offsets.add(offset);
        }
        return at;
      });
      for (const [doc, offset] of scorer.positions(tokens[0]!)) {
        if (members.has(doc) && later.every((at, i) => at.get(doc)?.has(offset + i + 1))) count(doc);
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

  /** BM25 of every row holding a matched word, summed in the plan's word order, as FTS5 sums its phrases. */
  private score(table: FullTextTable, members: NamespaceRows, terms: readonly string[], matches: Map<string, WordMatches>, counted: boolean): KeywordHit[] {
    const { rows } = members;
    const meanTokens = rows === 0 ? 1 : members.totalTokens / rows;
    const matching = [...new Set(terms.flatMap((term) => matches.get(term)!.docs))];
    const tokensOf = this.lengths(table, matching);
    const scores = new Map<number, number>();
    const held = new Map<number, number>();
    for (const term of terms) {
      const { docs, frequencies } = matches.get(term)!;
      if (docs.length === 0) continue;
      const idf = bm25Idf(rows, docs.length);
      for (let i = 0; i < docs.length; i++) {
        const doc = docs[i]!;
        scores.set(doc, (scores.get(doc) ?? 0) + bm25Share(idf, frequencies[i]!, tokensOf(doc), meanTokens));
        held.set(doc, (held.get(doc) ?? 0) + 1);
      }
    }
    const hits = [...scores].map(([doc_id, score]): KeywordHit => (counted ? { doc_id, score, matched: held.get(doc_id)! } : { doc_id, score }));
    return hits.sort((a, b) => b.score - a.score || b.doc_id - a.doc_id);
  }
}
