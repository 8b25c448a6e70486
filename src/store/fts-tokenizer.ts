import Database, { type Statement } from 'better-sqlite3';

/** The tokenizer every full-text index of this project uses (SQLite's search_fts and window_fts). */
export const FTS_TOKENIZER = 'porter unicode61 remove_diacritics 2';

/** A text's terms and how often each occurs, and its length in tokens (what BM25 needs of a document). */
export interface TermCounts {
  readonly terms: Map<string, number>;
  readonly tokens: number;
}

/**
 * Words split and stemmed exactly as SQLite's FTS5 does for our tables, by
 * FTS5 itself in a private in-memory database: a backend that keeps its own
 * postings (PostgreSQL) then scores BM25 over the same terms and lengths as
 * the embedded one, so both rank alike. Nothing is written to disk.
 */
export class FtsTokenizer {
  private readonly db = new Database(':memory:');
  private readonly insert: Statement;
  private readonly read: Statement;
  private readonly clear: Statement;

  constructor() {
    this.db.exec(`CREATE VIRTUAL TABLE scratch USING fts5(body, tokenize = '${FTS_TOKENIZER}')`);
    this.db.exec(`CREATE VIRTUAL TABLE scratch_terms USING fts5vocab(scratch, instance)`);
    this.insert = this.db.prepare('INSERT INTO scratch (rowid, body) VALUES (?, ?)');
    this.read = this.db.prepare('SELECT doc, term, COUNT(*) AS n FROM scratch_terms GROUP BY doc, term');
    this.clear = this.db.prepare('DELETE FROM scratch');
  }

  /** Each text's term counts, in the order given. */
  count(texts: readonly string[]): TermCounts[] {
    const out = texts.map(() => ({ terms: new Map<string, number>(), tokens: 0 }));
    if (texts.length === 0) return out;
    this.db.transaction(() => {
      texts.forEach((text, i) => this.insert.run(i + 1, text));
      try {
        for (const row of this.read.iterate() as Iterable<{ doc: number; term: string; n: number }>) {
          const counts = out[row.doc - 1]!;
          counts.terms.set(row.term, row.n);
          counts.tokens += row.n;
        }
      } finally {
        this.clear.run();
      }
    })();
    return out;
  }

  /** The tokens of one word, in order: usually one; several for a word FTS5 splits ("e-mail"); none for one it drops. */
  tokensOf(word: string): string[] {
    return [...(this.count([word])[0]!.terms.keys())];
  }

  close(): void {
    this.db.close();
  }
}
