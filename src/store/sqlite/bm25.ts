import type { Database, Statement } from 'better-sqlite3';
import type { KeywordHit } from '../store.js';
import { DocLengths, varintsFromHex } from './doc-lengths.js';
import { PostingCache } from './posting-cache.js';

/** FTS5's bm25() constants. */
const K1 = 1.2;
const B = 0.75;

/** A phrase's IDF as FTS5's bm25() computes it: from the rows of the table and the rows holding the phrase, never below 1e-6. */
export const bm25Idf = (rows: number, matching: number): number => Math.max(1e-6, Math.log((rows - matching + 0.5) / (matching + 0.5)));

/** A phrase's share of a row's BM25 score, as FTS5's bm25() computes it: `frequency` times in a row of `tokens`, against the table's mean. */
export const bm25Share = (idf: number, frequency: number, tokens: number, meanTokens: number): number =>
  (idf * frequency * (K1 + 1)) / (frequency + K1 * (1 - B + (B * tokens) / meanTokens));

const MAX_CACHED_WORDS = 50_000;
const TOKEN_STATS_MS = 10 * 60 * 1000;
/**
 * Postings come one per occurrence: words repeated many times within rows
 * (long documents) cost more here than in FTS5, which walks positions in C.
 * Past this many occurrences beyond two a row, FTS5 scores the query.
 */
export const MAX_EXTRA_OCCURRENCES = 10_000;

/** The `tokenize = '…'` option a table was created with, so words are split as its rows were. */
function tokenizerOf(db: Database, table: string): string | null {
  const row = db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as { sql: string } | undefined;
  return row ? (/tokenize\s*=\s*'((?:[^']|'')*)'/i.exec(row.sql)?.[1] ?? 'unicode61') : null;
}

/**
 * BM25 over a one-column FTS5 table, computed here exactly as FTS5's bm25()
 * does (same IDF, k1, b, row count and average length), from each word's
 * postings (which rows hold it, how often: FTS5's own `fts5vocab` instance
 * view) and the row lengths held in memory. FTS5 reads every matching row's
 * length from its docsize table, one lookup per row; at a million rows a
 * query scoring 20,000 of them took 7.3 ms that way and 2.6 ms here.
 *
 * `top` answers null when it cannot score a query the same way (the lengths
 * are still loading, or a word is several tokens, a phrase to FTS5): the
 * caller then asks FTS5.
 */
export class Bm25Scorer {
  readonly lengths: DocLengths;
  private readonly postings: Statement;
  private readonly offsets: Statement;
  private readonly tokenTotals: Statement;
  private readonly averages: Statement;
  private readonly tokenStats = new Map<string, { rows: number; occurrences: number; at: number }>();
  private readonly scoreInSnapshot: (tokens: readonly string[], limit: number, keep?: (rowid: number) => boolean) => KeywordHit[] | null;
  private readonly tokenizeInsert: Statement;
  private readonly tokenizeRead: Statement;
  private readonly tokenizeClear: Statement;
  private readonly tokensOfWord = new Map<string, string[]>();
  /** Frequent words' postings between changes to the table (posting-cache.ts). */
  private readonly cachedPostings = new PostingCache();
  /** Score per rowid while a query is scored; zeroed again after. */
  private scratch = new Float64Array(1024);
  /** How many of the query's words each rowid holds, alongside `scratch`. */
  private matchedWords = new Uint8Array(1024);

  private constructor(db: Database, table: string, tokenizer: string) {
    this.lengths = new DocLengths(db, table);
    // Per-connection views in the temp schema: nothing is added to the database file.
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."${table}_instances" USING fts5vocab(main, "${table}", instance)`);
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."${table}_terms" USING fts5vocab(main, "${table}", row)`);
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."${table}_tokenizer" USING fts5(word, tokenize = '${tokenizer}')`);
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."${table}_tokens" USING fts5vocab(temp, "${table}_tokenizer", instance)`);
    // FTS5's "averages" record (rowid 1 of its data table): the row count, then the tokens of each column.
    // FTS5 does not lower them when a row of a contentless table is deleted; bm25() reads them as they are, and so does this.
    this.averages = db.prepare(`SELECT hex(block) FROM "${table}_data" WHERE id = 1`).pluck();
    this.postings = db.prepare(`SELECT doc FROM temp."${table}_instances" WHERE term = ?`).pluck();
    this.offsets = db.prepare(`SELECT doc, offset FROM temp."${table}_instances" WHERE term = ?`).raw();
    this.tokenTotals = db.prepare(`SELECT doc AS rows, cnt AS occurrences FROM temp."${table}_terms" WHERE term = ?`);
    this.tokenizeInsert = db.prepare(`INSERT OR REPLACE INTO temp."${table}_tokenizer" (rowid, word) VALUES (1, ?)`);
    // One read transaction: the lengths, FTS5's averages and the postings all see the same commits.
    this.scoreInSnapshot = db.transaction((tokens: readonly string[], limit: number, keep?: (rowid: number) => boolean) => this.score(tokens, limit, keep));
    this.tokenizeRead = db.prepare(`SELECT term FROM temp."${table}_tokens" ORDER BY offset`).pluck();
    this.tokenizeClear = db.prepare(`DELETE FROM temp."${table}_tokenizer"`);
  }

  /** A scorer for this FTS5 table, or null if it does not exist or has more than one column (the lengths read are a row's only column's). */
  static for(db: Database, table: string): Bm25Scorer | null {
    const tokenizer = tokenizerOf(db, table);
    if (tokenizer === null || db.prepare(`SELECT count(*) FROM pragma_table_info(?)`).pluck().get(table) !== 1) return null;
    return new Bm25Scorer(db, table, tokenizer);
  }

  /**
   * The best `limit` rows matching any of the words (among those `keep`
   * accepts), best first (ties: newest first), scored as `-bm25(table)` would
   * be, each with how many of the words it holds; null when that cannot be
   * done here.
   */
  top(words: readonly string[], limit: number, keep?: (rowid: number) => boolean): KeywordHit[] | null {
    if (!this.lengths.current()) return null;
    const tokens: string[] = [];
    for (const word of words) {
      const split = this.tokenize(word);
      if (split.length > 1) return null;
      // A word with no token matches nothing, as in FTS5.
      if (split.length === 1) tokens.push(split[0]!);
    }
    if (this.tooRepetitive(tokens)) return null;
    return this.scoreInSnapshot(tokens, limit, keep);
  }

  private score(tokens: readonly string[], limit: number, keep?: (rowid: number) => boolean): KeywordHit[] | null {
    if (!this.lengths.catchUp()) return null;
    const { rows, totalTokens } = this.totals();
    const meanTokens = rows === 0 ? 1 : totalTokens / rows;
    const touched: number[] = [];
    const cache = new Map<string, readonly number[] | Int32Array>();
    try {
      for (const token of tokens) {
        // A token twice in the query counts twice, as two phrases do in FTS5.
        let docs = cache.get(token);
        if (!docs) cache.set(token, (docs = this.occurrences(token)));
        this.accumulate(docs, rows, meanTokens, touched);
      }
      return this.best(keep ? touched.filter(keep) : touched, limit);
    } finally {
      // Even after a failed read: the next query must start from zero.
      for (const doc of touched) {
        this.scratch[doc] = 0;
        this.matchedWords[doc] = 0;
      }
    }
  }

  /** The tokens occur many more times than in the rows holding them (cached counts, from FTS5's row view). */
  private tooRepetitive(tokens: readonly string[]): boolean {
    const now = Date.now();
    let extra = 0;
    for (const token of new Set(tokens)) {
      let stats = this.tokenStats.get(token);
      if (!stats || now - stats.at >= TOKEN_STATS_MS) {
        const row = this.tokenTotals.get(token) as { rows: number; occurrences: number } | undefined;
        stats = { rows: row?.rows ?? 0, occurrences: row?.occurrences ?? 0, at: now };
        if (this.tokenStats.size >= MAX_CACHED_WORDS) this.tokenStats.clear();
        this.tokenStats.set(token, stats);
      }
      extra += stats.occurrences - 2 * stats.rows;
    }
    return extra > MAX_EXTRA_OCCURRENCES;
  }

  /** Occurrences of frequent words held between searches (posting-cache.ts). */
  get keptPostings(): number {
    return this.cachedPostings.size;
  }

  /** The table has never held a row (FTS5's row count only grows in a contentless table). */
  empty(): boolean {
    return this.totals().rows === 0;
  }

  /** FTS5's row count and token total, as bm25() reads them (0 and 0 before the first row). */
  private totals(): { rows: number; totalTokens: number } {
    const [rows = 0, totalTokens = 0] = varintsFromHex((this.averages.get() as string | undefined) ?? '');
    return { rows, totalTokens };
  }

  close(): void {
    this.lengths.close();
  }

  /** The table tokenizer's tokens for a word: one for most words, several for a word FTS5 reads as a phrase ("e-mail"), none for a word it drops. */
  tokensOf(word: string): string[] {
    return this.tokenize(word);
  }

  /** Every row holding the token, once per occurrence, in rowid order (FTS5's instance view, or the same list kept since; call inside a read transaction, after the lengths' catchUp). */
  occurrences(token: string): readonly number[] | Int32Array {
    return this.cachedPostings.get(token, this.lengths.generation, () => this.postings.all(token) as number[]);
  }

  /** Where the token occurs: [rowid, token offset] pairs in rowid then offset order (call inside a read transaction). */
  positions(token: string): Array<[number, number]> {
    return this.offsets.all(token) as Array<[number, number]>;
  }

  /** Add one term's BM25 share to every row holding it (postings come one per occurrence, in rowid order). */
  private accumulate(docs: readonly number[] | Int32Array, rows: number, meanTokens: number, touched: number[]): void {
    let matching = 0;
    for (let i = 0; i < docs.length; i++) if (i === 0 || docs[i] !== docs[i - 1]) matching++;
    const idf = bm25Idf(rows, matching);
    const last = docs.length === 0 ? 0 : docs[docs.length - 1]!;
    if (last >= this.scratch.length) {
      const size = Math.max(last + 1, this.scratch.length * 2);
      const grown = new Float64Array(size);
      grown.set(this.scratch);
      this.scratch = grown;
      const counts = new Uint8Array(size);
      counts.set(this.matchedWords);
      this.matchedWords = counts;
    }
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i]!;
      let frequency = 1;
      while (docs[i + 1] === doc) {
        frequency++;
        i++;
      }
      const share = bm25Share(idf, frequency, this.lengths.of(doc), meanTokens);
      if (this.scratch[doc] === 0) touched.push(doc);
      this.scratch[doc] = this.scratch[doc]! + share;
      // At most 32 query words (query-terms.ts): a byte holds the count.
      this.matchedWords[doc] = this.matchedWords[doc]! + 1;
    }
  }

  /**
   * The `limit` best touched rows, best first (ties: newest first): a min-heap
   * of the best so far, so a query touching thousands of rows sorts only
   * `limit` of them (sorting every score was half the time of a query of
   * common words).
   */
  private best(touched: readonly number[], limit: number): KeywordHit[] {
    const scores = this.scratch;
    const heap = new Int32Array(Math.min(limit, touched.length));
    let size = 0;
    // a ranks below b: a lower score, or the same score and an older row.
    const below = (a: number, b: number): boolean => scores[a]! < scores[b]! || (scores[a] === scores[b] && a < b);
    const swap = (i: number, j: number): void => {
      const held = heap[i]!;
      heap[i] = heap[j]!;
      heap[j] = held;
    };
    for (const doc of touched) {
      if (size < heap.length) {
        heap[size] = doc;
        size += 1;
        for (let i = size - 1; i > 0 && below(heap[i]!, heap[(i - 1) >> 1]!); i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
      } else if (size > 0 && below(heap[0]!, doc)) {
        heap[0] = doc;
        for (let i = 0; ; ) {
          const left = 2 * i + 1;
          if (left >= size) break;
          const child = left + 1 < size && below(heap[left + 1]!, heap[left]!) ? left + 1 : left;
          if (!below(heap[child]!, heap[i]!)) break;
          swap(i, child);
          i = child;
        }
      }
    }
    return Array.from(heap, (doc) => ({ doc_id: doc, score: scores[doc]!, matched: this.matchedWords[doc]! })).sort((a, b) => b.score - a.score || b.doc_id - a.doc_id);
  }

  /** The table tokenizer's tokens for a word, from FTS5 itself (cached). */
  private tokenize(word: string): string[] {
    let tokens = this.tokensOfWord.get(word);
    if (!tokens) {
      this.tokenizeInsert.run(word);
      try {
        tokens = this.tokenizeRead.all() as string[];
      } finally {
        // Always emptied: the next word goes in as row 1 again.
        this.tokenizeClear.run();
      }
      if (this.tokensOfWord.size >= MAX_CACHED_WORDS) this.tokensOfWord.clear();
      this.tokensOfWord.set(word, tokens);
    }
    return tokens;
  }
}
