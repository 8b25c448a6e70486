import type pg from 'pg';
import type { StoreFilters } from '../store.js';
import { admitsAllVisible } from '../store.js';
import { vectorBytes } from '../search-doc.js';
import { vectorLiteral } from './doc-index.js';
import { ensureModelIndex, quoteLiteral, type VectorSupport } from './migrations.js';
import { query, transaction } from './pool.js';
import type { SearchReads } from './search-reads.js';
import { filterClause, Params } from './sql-params.js';
import { decoded } from './text-escape.js';

/** pgvector's HNSW settings: each model's index is built with m and ef_construction; ef_search is set per query. */
export interface HnswSettings {
  m: number;
  efConstruction: number;
  efSearch: number;
}

/**
 * The reads of the vector leg (src/memory/database-vector-search.ts): stored
 * vectors, the nearest records by pgvector, the records still to embed, and
 * each model's HNSW index. Writes of vectors go through DocIndex, in the
 * store's write transactions.
 */
export class VectorRecords {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly support: VectorSupport,
    private readonly search: SearchReads,
    private readonly hnsw: HnswSettings,
    private readonly exactScanLimit: number,
  ) {}

  async vectorsOf(docIds: readonly number[], modelKey: string): Promise<Array<{ doc_id: number; vector: Uint8Array }>> {
    if (docIds.length === 0) return [];
    const values = this.support.column ? 'embedding::real[]' : 'NULL::real[]';
    const rows = await query<{ doc_id: number; vector: Buffer | null; values: number[] | null }>(
      this.pool,
      `SELECT doc_id, vector, ${values} AS values FROM doc_vectors WHERE doc_id = ANY($1::bigint[]) AND model_key = $2`,
      [[...docIds], modelKey],
    );
    return rows.map((row) => ({ doc_id: row.doc_id, vector: row.vector ?? vectorBytes(Float32Array.from(row.values ?? [])) }));
  }

  /**
   * The k nearest visible records that pass the filters, by pgvector. The
   * model's HNSW index answers a search over the whole store or a broad
   * scope (with iterative scans, pgvector 0.8+, a filtered walk goes on until
   * k pass); a scope of at most the exact-scan limit, and a search confined
   * to a namespace (whose answer must not depend on the graph other
   * namespaces share), is scanned exactly.
   */
  async nearest(modelKey: string, vector: Float32Array, filters: StoreFilters, k: number): Promise<Array<{ doc_id: number; similarity: number }>> {
    if (!this.support.column || vector.length === 0 || k <= 0) return [];
    const exact = filters.confined === true || (!admitsAllVisible(filters) && (await this.search.scopeSize(filters)).docs <= this.exactScanLimit);
    const dimension = vector.length;
    const p = new Params();
    const target = p.add(vectorLiteral(vector));
    const distance = `(v.embedding::vector(${dimension}) <=> ${target}::vector(${dimension}))`;
    const where = filterClause({ ...filters, include_superseded: false }, p);
    const sql = `SELECT v.doc_id, 1 - ${distance} AS similarity
      FROM doc_vectors v JOIN search_docs d ON d.doc_id = v.doc_id
      WHERE v.model_key = ${quoteLiteral(modelKey)} AND v.embedding IS NOT NULL AND ${where}
      ORDER BY ${exact ? `${distance} + 0, v.doc_id` : distance}
      LIMIT ${p.add(k)}`;
    const rows = await transaction(this.pool, async (client) => {
      const efSearch = Math.min(1000, Math.max(this.hnsw.efSearch, k));
      await client.query(`SET LOCAL hnsw.ef_search = ${efSearch}${this.support.iterativeScans ? '; SET LOCAL hnsw.iterative_scan = relaxed_order' : ''}`);
      return (await client.query<{ doc_id: number; similarity: number }>(sql, p.values)).rows;
    });
    // Relaxed order: the index may hand rows back slightly out of order.
    return rows.sort((a, b) => b.similarity - a.similarity || a.doc_id - b.doc_id);
  }

  /** The cosine similarity of each given record's stored vector to this one, by pgvector as `nearest` measures it. */
  async similarities(modelKey: string, vector: Float32Array, docIds: readonly number[]): Promise<Array<{ doc_id: number; similarity: number }>> {
    if (!this.support.column || vector.length === 0 || docIds.length === 0) return [];
    const dimension = vector.length;
    return query<{ doc_id: number; similarity: number }>(
      this.pool,
      `SELECT doc_id, 1 - (embedding::vector(${dimension}) <=> $3::vector(${dimension})) AS similarity
       FROM doc_vectors WHERE doc_id = ANY($1::bigint[]) AND model_key = $2 AND embedding IS NOT NULL`,
      [[...docIds], modelKey, vectorLiteral(vector)],
    );
  }

  async docsWithoutVector(modelKey: string, limit: number, afterDocId = 0): Promise<Array<{ doc_id: number; text: string }>> {
    const rows = await query<{ doc_id: number; text: string }>(
      this.pool,
      `SELECT d.doc_id,
         CASE d.type
           WHEN 'memory' THEN (SELECT m.content || COALESCE(chr(10) || g.title, '') FROM memories m LEFT JOIN goals g ON g.id = m.goal_id WHERE m.id = d.entity_id)
           WHEN 'goal' THEN (SELECT title || COALESCE(chr(10) || description, '') FROM goals WHERE id = d.entity_id)
           ELSE (SELECT title || COALESCE(chr(10) || detail, '') FROM plan_steps WHERE id = d.entity_id)
         END AS text
       FROM search_docs d LEFT JOIN doc_vectors v ON v.doc_id = d.doc_id
       WHERE d.doc_id > $1 AND (v.doc_id IS NULL OR v.model_key <> $2) AND NOT d.held
       ORDER BY d.doc_id LIMIT $3`,
      [afterDocId, modelKey, limit],
    );
    return rows.map((row) => decoded(row, 'text'));
  }

  async embeddingProgress(modelKey: string): Promise<{ docs: number; embedded: number }> {
    const [row] = await query<{ docs: number; embedded: number }>(
      this.pool,
      // Memories held for review are embedded when approved, not before.
      'SELECT (SELECT COUNT(*) FROM search_docs WHERE NOT held) AS docs, (SELECT COUNT(*) FROM doc_vectors WHERE model_key = $1) AS embedded',
      [modelKey],
    );
    return row!;
  }

  /** The model's HNSW index, made once (when the database has pgvector). */
  async ensureIndex(model: { key: string; dimension: number }): Promise<void> {
    if (!this.support.column) return;
    const client = await this.pool.connect();
    try {
      await ensureModelIndex(client, this.schema, model.key, model.dimension, this.hnsw);
    } finally {
      client.release();
    }
  }
}
