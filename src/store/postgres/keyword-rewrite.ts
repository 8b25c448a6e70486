import type pg from 'pg';
import { ftsBody } from '../search-doc.js';
import { keywordTextKey, type KeywordText } from '../store.js';
import type { WriteTx } from './write-tx.js';
import { query } from './pool.js';

/** The store_settings row naming the version that wrote the keyword text. */
const VERSION_SETTING = 'keyword_text_version';

/** Docs written per statement while rewriting (the whole rewrite is one transaction). */
const PAGE = 2_000;

/** See MemoryStore.keywordIndexMark: the same five figures as the SQLite backend's. */
export async function keywordIndexMark(pool: pg.Pool | pg.PoolClient): Promise<string> {
  const [row] = await query<{ mark: string }>(
    pool,
    `SELECT json_build_array(
       (SELECT coalesce(max(doc_id), 0) FROM search_docs),
       (SELECT count(*) FROM search_docs WHERE NOT held),
       (SELECT count(*) FROM search_docs WHERE hidden),
       (SELECT coalesce(max(updated_at), '') FROM goals),
       (SELECT coalesce(max(updated_at), '') FROM memories))::text AS mark`,
  );
  return row!.mark;
}

/**
 * Write every doc's terms again from nothing, and set the docs' row and
 * token totals to what the index holds now (see MemoryStore.rewriteKeywordIndex).
 * Other writers wait on the table lock; readers go on reading what was there.
 */
export async function rewriteKeywordIndex(tx: WriteTx, texts: ReadonlyMap<string, KeywordText>, mark: string, version: number): Promise<number | null> {
  // Blocks every insert, update and delete of search_docs (every write of a record) until this commits; reads go on.
  await tx.query('LOCK TABLE search_docs IN SHARE ROW EXCLUSIVE MODE');
  if ((await keywordIndexMark(tx.client)) !== mark) return null;
  await tx.query('DELETE FROM doc_terms');
  let rows = 0;
  let tokens = 0;
  for (let after = 0; ; ) {
    const docs = await tx.query<{ doc_id: number; type: 'memory' | 'goal' | 'step'; entity_id: string }>(
      'SELECT doc_id, type, entity_id FROM search_docs WHERE NOT held AND doc_id > $1 ORDER BY doc_id LIMIT $2',
      [after, PAGE],
    );
    const bodies = docs.map((doc) => {
      const text = texts.get(keywordTextKey(doc.type, doc.entity_id));
      if (text === undefined) throw new Error(`no keyword text was given for ${doc.type} ${doc.entity_id}`);
      return ftsBody(text);
    });
    const counts = tx.count(bodies);
    const postings: { term: string[]; doc: number[]; tf: number[]; tokens: number[] } = { term: [], doc: [], tf: [], tokens: [] };
    docs.forEach((doc, i) => {
      for (const [term, tf] of counts[i]!.terms) {
        postings.term.push(term);
        postings.doc.push(doc.doc_id);
        postings.tf.push(tf);
        postings.tokens.push(counts[i]!.tokens);
      }
      tokens += counts[i]!.tokens;
    });
    rows += docs.length;
    await tx.query('UPDATE search_docs d SET tokens = x.tokens FROM unnest($1::bigint[], $2::int[]) AS x(doc_id, tokens) WHERE d.doc_id = x.doc_id', [
      docs.map((doc) => doc.doc_id),
      counts.map((c) => c.tokens),
    ]);
    await tx.query('INSERT INTO doc_terms (term, doc_id, tf, tokens) SELECT term, doc_id, tf, tokens FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[]) AS x(term, doc_id, tf, tokens)', [
      postings.term,
      postings.doc,
      postings.tf,
      postings.tokens,
    ]);
    if (docs.length < PAGE) break;
    after = docs[docs.length - 1]!.doc_id;
  }
  await tx.query("DELETE FROM fts_totals WHERE name = 'docs'");
  await tx.query("INSERT INTO fts_totals (name, slot, rows, tokens) VALUES ('docs', 0, $1, $2)", [rows, tokens]);
  await tx.query('INSERT INTO store_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [VERSION_SETTING, String(version)]);
  return rows;
}

/** See MemoryStore.keywordTextVersion. */
export async function keywordTextVersion(pool: pg.Pool): Promise<number | null> {
  const [row] = await query<{ value: string }>(pool, 'SELECT value FROM store_settings WHERE name = $1', [VERSION_SETTING]);
  return row === undefined ? null : Number(row.value);
}

/** See MemoryStore.adoptKeywordTextVersion. */
export async function adoptKeywordTextVersion(pool: pg.Pool, version: number): Promise<void> {
  await query(pool, 'INSERT INTO store_settings (name, value) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM search_docs) ON CONFLICT (name) DO NOTHING', [VERSION_SETTING, String(version)]);
}
