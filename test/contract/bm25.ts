/**
 * BM25 as SQLite FTS5's bm25() computes it, written out for the contract's
 * exact-score tests: k1 = 1.2, b = 0.75, and an IDF that never falls below
 * 1e-6. A row's score is the sum over the query's terms of
 *
 *   idf(n) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / mean))
 *
 * where idf(n) = max(1e-6, ln((N - n + 0.5) / (n + 0.5))), N is the number of
 * rows scored against (every record of the store, or of the namespace for a
 * confined search), n how many of them hold the term, tf how often this row
 * does, len its length in tokens and mean the rows' mean length. Terms and
 * rows are compared as the index's tokenizer leaves them: lower-case, without
 * diacritics, stemmed by the Porter stemmer; the corpora list each row's
 * tokens so, as FTS5's `porter unicode61 remove_diacritics 2` makes them.
 */

const K1 = 1.2;
const B = 0.75;

export const idf = (rows: number, matching: number): number => Math.max(1e-6, Math.log((rows - matching + 0.5) / (matching + 0.5)));

/** Expected scores of the rows holding any of the query's (stemmed) terms, by row key; rows holding none are left out. */
export function bm25Scores(rows: ReadonlyMap<string, readonly string[]>, queryStems: readonly string[]): Map<string, number> {
  const all = [...rows.values()];
  const mean = all.reduce((sum, tokens) => sum + tokens.length, 0) / all.length;
  const scores = new Map<string, number>();
  for (const stem of queryStems) {
    const matching = all.filter((tokens) => tokens.includes(stem)).length;
    const weight = idf(all.length, matching);
    for (const [key, tokens] of rows) {
      const tf = tokens.filter((token) => token === stem).length;
      if (tf === 0) continue;
      const share = (weight * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * tokens.length) / mean));
      scores.set(key, (scores.get(key) ?? 0) + share);
    }
  }
  return scores;
}

/** Split on white space: the corpora write each row's tokens as the tokenizer leaves them. */
export const tokens = (text: string): string[] => text.split(/\s+/).filter(Boolean);
