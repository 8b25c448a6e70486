import { toOrigin } from '../../domain/provenance.js';
import type pg from 'pg';
import { parseJson } from '../json.js';
import type { FtsTokenizer } from '../fts-tokenizer.js';
import type { DocView, KeywordHit, KeywordQuery, RecentQuery, StoreFilters, WindowHit } from '../store.js';
import { query } from './pool.js';
import { admitsAllVisible, BROAD_SCOPE_SHARE } from '../store.js';
import { injectionOf } from '../memory-mapping.js';
import { filterClause, Params } from './sql-params.js';
import { fromDb } from './text-escape.js';

/** Most candidates a search in a broad scope scores before filtering (as the SQLite backend). */
const MAX_FILTER_DEPTH = 1000;
/**
 * A namespace of at most this many visible docs is scored doc by doc (each doc's postings of the query's
 * terms, by the primary key) rather than term by term (every posting of each term, then its doc): a
 * common word has tens of thousands of postings at 100,000 memories, a small namespace a few hundred docs.
 */
export const SMALL_SCOPE_DOCS = 2000;
/** How long a count of the namespaces' shares is used before it is taken again (in the background). */
const SHARES_TTL_MS = 60_000;

/** FTS5's bm25() constants (see the SQLite backend's bm25.ts). */
const K1 = 1.2;
const B = 0.75;

/** A doc's searchable text: a memory's content, a goal's or step's title and details. */
const DOC_TEXT = `CASE d.type
    WHEN 'memory' THEN (SELECT content FROM memories WHERE id = d.entity_id)
    WHEN 'goal' THEN (SELECT title || COALESCE(chr(10) || description, '') FROM goals WHERE id = d.entity_id)
    ELSE (SELECT title || COALESCE(chr(10) || detail, '') FROM plan_steps WHERE id = d.entity_id)
  END`;

/**
 * The start of every BM25 statement: the query's terms with how often each is asked (q), the index's
 * row and token totals (stats), and each term's IDF and the mean length (w, materialized: each term's
 * document count is taken once, not again for every posting the planner joins it to; a query with a
 * common word in one namespace took up to a second at 100,000).
 */
const termWeights = (termsParam: string, stats: string, docCount: string): string => `WITH q AS (SELECT term, COUNT(*)::int AS times FROM unnest(${termsParam}::text[]) AS term GROUP BY term),
      stats AS (${stats}),
      w AS MATERIALIZED (
        SELECT q.term, q.times,
          GREATEST(1e-6, ln((s.n - c.n + 0.5) / (c.n + 0.5))) AS idf,
          CASE WHEN s.n = 0 THEN 1 ELSE s.toks / s.n END AS mean
        FROM q CROSS JOIN stats s CROSS JOIN LATERAL (${docCount}) c
      )`;

/** The two keyword indexes: each doc's own text, and thread windows (a memory with its neighbours). */
const INDEXES = {
  docs: { postings: 'doc_terms', lengths: 'search_docs', lengthJoin: '' },
  windows: { postings: 'window_terms', lengths: 'thread_windows', lengthJoin: 'JOIN thread_windows l ON l.doc_id = p.doc_id' },
} as const;

/**
 * Keyword search and the narrow reads search needs, over the PostgreSQL
 * tables. BM25 is computed in SQL exactly as FTS5's bm25() computes it (IDF
 * from the index's row count and each term's doc count, k1 1.2, b 0.75, the
 * mean length from the index's token total), over the same terms (FTS5's
 * tokenizer made them), so both backends give the same scores. A search
 * confined to a namespace takes every statistic from that namespace alone.
 */
export class SearchReads {
  /** Whether a thread window has been seen in the store: from then on, window searches skip the check. */
  private windowsSeen = false;
  /**
   * Each namespace's share of the visible docs, as last counted (in the background, at most once a
   * SHARES_TTL_MS): it chooses how a search in one namespace is run, never what it answers.
   */
  private shares: { at: number; of: Map<string, number>; total: number } | null = null;
  private sharesLoading = false;

  constructor(
    private readonly db: pg.Pool,
    private readonly tokenizer: FtsTokenizer,
    /** See SMALL_SCOPE_DOCS; 0 scores every search term by term. */
    private readonly smallScopeDocs = SMALL_SCOPE_DOCS,
  ) {}

  /** Through pool.ts's query(): a lost database is the retryable tool error, not an internal one. */
  private async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return query<R>(this.db, sql, params);
  }

  /** The query's words as index terms (a word the tokenizer splits counts as its parts; one it drops matches nothing). */
  private termsOf(words: readonly string[]): string[] {
    return words.flatMap((word) => this.tokenizer.tokensOf(word));
  }

  async keyword(query: KeywordQuery): Promise<KeywordHit[]> {
    return (await this.bm25('docs', query)).map(({ doc_id, score, matched }) => ({ doc_id, score, matched }));
  }

  async windows(query: KeywordQuery): Promise<WindowHit[]> {
    // Stores without threads (the usual case) have no windows: one cheap look instead of planning the
    // BM25 statement (0.9 ms of a search's 4.5 at 10,000 memories). Another server may add windows at
    // any time, so only their presence is remembered. A confined search looks in its namespace whatever
    // the store holds, so that its time does not tell whether others have threads (as the SQLite backend).
    if (!query.filters.confined && !this.windowsSeen) {
      const [row] = await this.rows<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM thread_windows) AS any');
      if (!row?.any) return [];
      this.windowsSeen = true;
    }
    return (await this.bm25('windows', query)).map(({ doc_id, score, before_doc, after_doc }) => ({ doc_id, score, before: before_doc, after: after_doc }));
  }

  private async bm25(index: keyof typeof INDEXES, query: KeywordQuery): Promise<Array<KeywordHit & { matched: number; before_doc: number | null; after_doc: number | null }>> {
    const terms = this.termsOf(query.terms);
    if (terms.length === 0 || query.limit <= 0) return [];
    const { postings, lengths, lengthJoin } = INDEXES[index];
    const { filters } = query;
    const p = new Params();
    const termsParam = p.add(terms);
    let stats: string;
    let docCount: string;
    if (filters.confined) {
      if (filters.namespace === null) throw new Error('a search confined to a namespace must name it');
      const ns = p.add(filters.namespace);
      stats = index === 'docs'
        ? `SELECT COUNT(*)::float8 AS n, COALESCE(SUM(tokens), 0)::float8 AS toks FROM search_docs WHERE namespace = ${ns}`
        : `SELECT COUNT(*)::float8 AS n, COALESCE(SUM(w.tokens), 0)::float8 AS toks FROM thread_windows w JOIN search_docs s ON s.doc_id = w.doc_id WHERE s.namespace = ${ns}`;
      docCount = `SELECT COUNT(*)::float8 AS n FROM ${postings} c JOIN search_docs s ON s.doc_id = c.doc_id WHERE c.term = q.term AND s.namespace = ${ns}`;
    } else {
      stats = `SELECT COALESCE(SUM(rows), 0)::float8 AS n, COALESCE(SUM(tokens), 0)::float8 AS toks FROM fts_totals WHERE name = '${index}'`;
      docCount = `SELECT COUNT(*)::float8 AS n FROM ${postings} c WHERE c.term = q.term`;
    }
    const where = filterClause(filters, p);
    // Over the whole store, or a namespace holding much of it (often all of it: "default"), score the
    // postings alone and filter the best; a namespace holding little of it is better read doc by doc.
    const share = index === 'docs' && !filters.confined ? this.scopeShare(filters) : null;
    if (share !== null && share >= BROAD_SCOPE_SHARE) {
      const depth = Math.min(MAX_FILTER_DEPTH, Math.ceil((query.limit * 2) / share));
      const best = await this.bestPassing(termsParam, stats, docCount, where, p.copy(), query.limit, depth);
      if (best) return best;
    }
    if (share !== null && this.shares !== null && share * this.shares.total <= this.smallScopeDocs) {
      return this.rows(this.docByDocSql(termsParam, stats, docCount, where, p.add(query.limit)), p.values);
    }
    const length = lengths === 'search_docs' ? 'd.tokens' : 'l.tokens';
    const windowCols = index === 'windows' ? 'l.before_doc, l.after_doc' : 'NULL::bigint AS before_doc, NULL::bigint AS after_doc';
    const groupCols = index === 'windows' ? ', l.before_doc, l.after_doc' : '';
    const sql = `
      ${termWeights(termsParam, stats, docCount)}
      SELECT p.doc_id,
        SUM(w.times * w.idf * p.tf * ${K1 + 1} / (p.tf + ${K1} * (${1 - B} + ${B} * ${length} / w.mean))) AS score,
        SUM(w.times)::int AS matched, ${windowCols}
      FROM w JOIN ${postings} p ON p.term = w.term JOIN search_docs d ON d.doc_id = p.doc_id ${lengthJoin}
      WHERE ${where}
      GROUP BY p.doc_id${groupCols}
      ORDER BY score DESC, p.doc_id DESC
      LIMIT ${p.add(query.limit)}`;
    return this.rows(sql, p.values);
  }

  /**
   * BM25 in a small scope, doc by doc: the scope's docs first (the namespace's index), then each doc's
   * postings of the query's terms by the primary key (OFFSET 0 keeps the planner from turning it back
   * into every posting of each term). The same terms, weights and formula as the term-by-term statement.
   */
  private docByDocSql(termsParam: string, stats: string, docCount: string, where: string, limitParam: string): string {
    return `
      ${termWeights(termsParam, stats, docCount)},
      scope AS MATERIALIZED (SELECT d.doc_id, d.tokens FROM search_docs d WHERE ${where})
      SELECT d.doc_id,
        SUM(x.times * x.idf * x.tf * ${K1 + 1} / (x.tf + ${K1} * (${1 - B} + ${B} * d.tokens / x.mean))) AS score,
        SUM(x.times)::int AS matched, NULL::bigint AS before_doc, NULL::bigint AS after_doc
      FROM scope d
      CROSS JOIN LATERAL (SELECT w.times, w.idf, w.mean, p.tf FROM w JOIN doc_terms p ON p.term = w.term AND p.doc_id = d.doc_id OFFSET 0) x
      GROUP BY d.doc_id
      ORDER BY score DESC, d.doc_id DESC
      LIMIT ${limitParam}`;
  }

  /**
   * The share of the visible docs a search's filters admit, when known
   * without counting: 1 over the whole store; a namespace's last counted
   * share when the namespace is the only filter; else null.
   */
  private scopeShare(filters: StoreFilters): number | null {
    if (admitsAllVisible(filters)) return 1;
    if (filters.namespace === null || !admitsAllVisible({ ...filters, namespace: null })) return null;
    if ((this.shares === null || Date.now() - this.shares.at > SHARES_TTL_MS) && !this.sharesLoading) {
      this.sharesLoading = true;
      void this.rows<{ namespace: string; n: number }>('SELECT namespace, COUNT(*)::int AS n FROM search_docs WHERE NOT hidden GROUP BY namespace')
        .then((rows) => {
          const total = rows.reduce((sum, row) => sum + row.n, 0);
          this.shares = { at: Date.now(), of: new Map(rows.map((row) => [row.namespace, total === 0 ? 0 : row.n / total])), total };
        })
        .catch(() => {})
        .finally(() => {
          this.sharesLoading = false;
        });
    }
    return this.shares === null ? null : (this.shares.of.get(filters.namespace) ?? 0);
  }

  /**
   * BM25 over the whole store or a broad scope, as the SQLite backend takes
   * it: score every posting from the key's index alone (tf and the doc's
   * length are in it), keep the best `depth`, then read only their docs for
   * the filters. Exact: the best of the scope are among them unless fewer
   * than `limit` of them pass, and then (null) the caller scores every
   * match joined to its doc instead.
   */
  private async bestPassing(
    termsParam: string,
    stats: string,
    docCount: string,
    where: string,
    p: Params,
    limit: number,
    depth: number,
  ): Promise<Array<KeywordHit & { matched: number; before_doc: null; after_doc: null }> | null> {
    const rows = await this.rows<KeywordHit & { matched: number; before_doc: null; after_doc: null; candidates: number }>(
      `${termWeights(termsParam, stats, docCount)},
      top AS MATERIALIZED (
        SELECT p.doc_id,
          SUM(w.times * w.idf * p.tf * ${K1 + 1} / (p.tf + ${K1} * (${1 - B} + ${B} * p.tokens / w.mean))) AS score,
          SUM(w.times)::int AS matched
        FROM w JOIN doc_terms p ON p.term = w.term
        GROUP BY p.doc_id
        ORDER BY score DESC, p.doc_id DESC
        LIMIT ${p.add(depth)}
      )
      SELECT t.doc_id, t.score, t.matched, NULL::bigint AS before_doc, NULL::bigint AS after_doc, (SELECT COUNT(*) FROM top)::int AS candidates
      FROM top t
      -- Each candidate's doc by its key (OFFSET 0 keeps the planner from joining them by reading every doc instead).
      CROSS JOIN LATERAL (SELECT 1 FROM search_docs d WHERE d.doc_id = t.doc_id AND ${where} OFFSET 0) passes
      ORDER BY t.score DESC, t.doc_id DESC
      LIMIT ${p.add(limit)}`,
      p.values,
    );
    // Enough passed, or every match was a candidate: this is the answer. Else score them all with the filters.
    if (rows.length < limit && (rows.length === 0 || rows[0]!.candidates >= depth)) return null;
    return rows.map(({ candidates: _, ...hit }) => hit);
  }

  async recent(query: RecentQuery): Promise<KeywordHit[]> {
    const p = new Params();
    const where = filterClause(query.filters, p);
    const column = query.filters.time_field === 'created_at' ? 'd.created_at' : 'd.occurred_at';
    return this.rows(`SELECT d.doc_id, 0 AS score FROM search_docs d WHERE ${where} ORDER BY ${column} DESC, d.doc_id DESC LIMIT ${p.add(query.limit)}`, p.values);
  }

  async threadNeighbours(docIds: readonly number[], radius: number): Promise<Array<{ center: number; doc_id: number; offset: number }>> {
    if (docIds.length === 0) return [];
    // Neighbours by order, not by numeric distance: positions may have gaps.
    const rows = await this.rows<{ center: number; doc_id: number; offset: number }>(
      `SELECT c.doc_id AS center, n.doc_id, n."offset"
       FROM search_docs c
       CROSS JOIN LATERAL (
         (SELECT b.doc_id, -ROW_NUMBER() OVER (ORDER BY b.thread_position DESC)::int AS "offset" FROM search_docs b
          WHERE b.namespace = c.namespace AND b.thread_id = c.thread_id AND b.thread_position < c.thread_position AND NOT b.hidden
          ORDER BY b.thread_position DESC LIMIT $2)
         UNION ALL
         (SELECT a.doc_id, ROW_NUMBER() OVER (ORDER BY a.thread_position ASC)::int AS "offset" FROM search_docs a
          WHERE a.namespace = c.namespace AND a.thread_id = c.thread_id AND a.thread_position > c.thread_position AND NOT a.hidden
          ORDER BY a.thread_position ASC LIMIT $2)
       ) n
       WHERE c.doc_id = ANY($1::bigint[]) AND c.thread_id IS NOT NULL AND c.thread_position IS NOT NULL`,
      [[...docIds], radius],
    );
    const order = new Map(docIds.map((id, i) => [id, i]));
    // As the SQLite backend gives them: centre by centre, the ones before (nearest first), then after.
    return rows.sort((a, b) => order.get(a.center)! - order.get(b.center)! || (Math.sign(a.offset) - Math.sign(b.offset)) || Math.abs(a.offset) - Math.abs(b.offset));
  }

  async scopeSize(filters: StoreFilters): Promise<{ docs: number; share: number }> {
    const [row] = await this.rows<{ total: number; docs: number }>(
      `SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE namespace = $1) AS docs FROM search_docs WHERE type = 'memory' AND NOT hidden`,
      [filters.namespace],
    );
    const total = row!.total;
    if (filters.namespace === null) return { docs: total, share: 1 };
    return { docs: row!.docs, share: total === 0 ? 1 : row!.docs / total };
  }

  async admit(docIds: readonly number[], filters: StoreFilters): Promise<Set<number>> {
    if (docIds.length === 0) return new Set();
    const p = new Params();
    const ids = p.add([...docIds]);
    const where = filterClause(filters, p);
    const rows = await this.rows<{ doc_id: number }>(`SELECT d.doc_id FROM search_docs d WHERE d.doc_id = ANY(${ids}::bigint[]) AND ${where}`, p.values);
    return new Set(rows.map((row) => row.doc_id));
  }

  async filterDocIds(filters: StoreFilters): Promise<number[]> {
    const p = new Params();
    const where = filterClause({ ...filters, include_superseded: false }, p);
    return (await this.rows<{ doc_id: number }>(`SELECT d.doc_id FROM search_docs d WHERE ${where}`, p.values)).map((row) => row.doc_id);
  }

  async docTexts(docIds: readonly number[]): Promise<Map<number, string>> {
    if (docIds.length === 0) return new Map();
    const rows = await this.rows<{ doc_id: number; text: string | null }>(`SELECT d.doc_id, ${DOC_TEXT} AS text FROM search_docs d WHERE d.doc_id = ANY($1::bigint[])`, [[...docIds]]);
    return new Map(rows.map((row) => [row.doc_id, fromDb(row.text) ?? '']));
  }

  async docSpeakers(docIds: readonly number[]): Promise<Map<number, string>> {
    if (docIds.length === 0) return new Map();
    const rows = await this.rows<{ doc_id: number; metadata: string }>(
      `SELECT d.doc_id, m.metadata FROM search_docs d JOIN memories m ON m.id = d.entity_id WHERE d.type = 'memory' AND d.doc_id = ANY($1::bigint[])`,
      [[...docIds]],
    );
    const out = new Map<number, string>();
    for (const row of rows) {
      const metadata = parseJson<Record<string, unknown>>(row.metadata, {});
      const speaker = metadata.speaker ?? metadata.author;
      // Only a name given as text counts; a number or an object in metadata is not a speaker.
      if (typeof speaker === 'string') out.set(row.doc_id, speaker);
    }
    return out;
  }

  async speakerNames(after: number): Promise<{ names: string[]; through: number }> {
    const rows = await this.rows<{ seq: number; name: string }>('SELECT seq, name FROM speaker_names WHERE seq > $1 ORDER BY seq', [after]);
    return { names: rows.map((row) => row.name), through: rows.at(-1)?.seq ?? after };
  }

  async describeDocs(docIds: readonly number[]): Promise<DocView[]> {
    if (docIds.length === 0) return [];
    const rows = await this.rows<Omit<DocView, 'text' | 'injection'> & { text: string | null; injection: string | null }>(
      `SELECT d.doc_id, d.type, d.entity_id, d.namespace, d.layer, d.kind, d.goal_id, d.occurred_at, d.hidden, d.thread_id, d.thread_position, d.origin,
         ${DOC_TEXT} AS text,
         CASE d.type WHEN 'memory' THEN (SELECT injection FROM memories WHERE id = d.entity_id) ELSE (SELECT injection FROM goals WHERE id = d.goal_id) END AS injection,
         COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM doc_tags t WHERE t.doc_id = d.doc_id), '{}') AS tags
       FROM search_docs d WHERE d.doc_id = ANY($1::bigint[])`,
      [[...docIds]],
    );
    const byId = new Map(rows.map((row) => [row.doc_id, row]));
    return docIds.flatMap((id) => {
      const row = byId.get(id);
      return row ? [{ ...row, origin: toOrigin(row.origin), injection: injectionOf(row.injection), text: fromDb(row.text) ?? '' }] : [];
    });
  }
}
