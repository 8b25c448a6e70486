import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';
import { TopK, VectorSlab } from '../../src/vector/vector-slab.js';

/** One stored vector of the active model: its doc, its values, and the record it belongs to. */
export interface StoredVector {
  docId: number;
  values: Float32Array;
  entityId: string;
}

/** Where the stored vectors of a model are read from (the server's database, read directly). */
export type VectorSource = (modelKey: string) => AsyncIterable<StoredVector> | Iterable<StoredVector>;

/** The visible vectors of a Pinak SQLite database in this data directory. */
export function sqliteVectors(dataDir: string): { source: VectorSource; close(): void } {
  const db = new Database(join(dataDir, 'pinak.db'), { readonly: true });
  return {
    source: function* (modelKey) {
      const rows = db
        .prepare(`SELECT v.doc_id, v.vector, d.entity_id FROM doc_vectors v JOIN search_docs d ON d.doc_id = v.doc_id
          WHERE v.model_key = ? AND d.hidden = 0 AND length(v.vector) > 0`)
        .iterate(modelKey) as Iterable<{ doc_id: number; vector: Buffer; entity_id: string }>;
      for (const row of rows) {
        const copy = new Uint8Array(row.vector.byteLength);
        copy.set(row.vector);
        yield { docId: row.doc_id, values: new Float32Array(copy.buffer), entityId: row.entity_id };
      }
    },
    close: () => db.close(),
  };
}

/** The visible vectors of a Pinak PostgreSQL schema whose vectors are in pgvector's column. */
export function postgresVectors(url: string, schema: string): VectorSource {
  return async function* (modelKey) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const s = pg.escapeIdentifier(schema);
      const { rows } = await client.query<{ doc_id: string; values: string; entity_id: string }>(
        `SELECT v.doc_id, v.embedding::text AS values, d.entity_id FROM ${s}.doc_vectors v JOIN ${s}.search_docs d ON d.doc_id = v.doc_id
         WHERE v.model_key = $1 AND NOT d.hidden AND v.embedding IS NOT NULL`,
        [modelKey],
      );
      for (const row of rows) {
        yield { docId: Number(row.doc_id), values: Float32Array.from(JSON.parse(row.values) as number[]), entityId: row.entity_id };
      }
    } finally {
      await client.end();
    }
  };
}

/**
 * Vector recall@10 of the server's vector search against exact search: the
 * same queries, embedded with the same (bundled) model, scored by brute
 * force over every visible vector stored in the database.
 */
export async function exactRecallOver(client: Client, vectors: VectorSource, queries: readonly string[]): Promise<number> {
  const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
  const embedder = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 1, maxBatch: 32 });
  try {
    const slab = new VectorSlab(embedder.model.dimension, 1024);
    const entityOf = new Map<number, string>();
    for await (const row of vectors(embedder.model.key)) {
      slab.set(row.docId, row.values);
      entityOf.set(row.docId, row.entityId);
    }
    const embedded = await embedder.embed(queries);
    let found = 0;
    let expected = 0;
    for (const [i, query] of queries.entries()) {
      const vector = embedded[i];
      if (!vector) continue;
      const truth = new TopK(10);
      for (const hit of slab.search(vector, 10)) if (hit.similarity > 0) truth.offer(hit.docId, hit.similarity);
      const exact = truth.sorted().map((hit) => entityOf.get(hit.docId));
      const result = await client.callTool({ name: 'search_memory', arguments: { query, mode: 'vector', namespace: '*', limit: 10 } });
      const got = new Set(((result.structuredContent as { hits?: Array<{ id: string }> }).hits ?? []).map((h) => h.id));
      expected += exact.length;
      found += exact.filter((id) => id !== undefined && got.has(id)).length;
    }
    return expected === 0 ? 1 : Math.round((found / expected) * 1000) / 1000;
  } finally {
    await embedder.close();
  }
}

/** Recall@10 of a server on a SQLite data directory (its local HNSW index). */
export async function exactRecall(client: Client, dataDir: string, queries: readonly string[]): Promise<number> {
  const db = sqliteVectors(dataDir);
  try {
    return await exactRecallOver(client, db.source, queries);
  } finally {
    db.close();
  }
}
