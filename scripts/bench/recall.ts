import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import Database from 'better-sqlite3';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';
import { TopK, VectorSlab } from '../../src/vector/vector-slab.js';

/**
 * Vector recall@10 of the server's HNSW search against exact search: the same
 * queries, embedded with the same (bundled) model, scored by brute force over
 * every visible vector stored in the database.
 */
export async function exactRecall(client: Client, dataDir: string, queries: readonly string[]): Promise<number> {
  const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
  const embedder = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 1, maxBatch: 32 });
  const db = new Database(join(dataDir, 'pinak.db'), { readonly: true });
  try {
    const slab = new VectorSlab(embedder.model.dimension, 1024);
    const rows = db
      .prepare(`SELECT v.doc_id, v.vector, d.entity_id FROM doc_vectors v JOIN search_docs d ON d.doc_id = v.doc_id
        WHERE v.model_key = ? AND d.hidden = 0 AND length(v.vector) > 0`)
      .iterate(embedder.model.key) as Iterable<{ doc_id: number; vector: Buffer; entity_id: string }>;
    const entityOf = new Map<number, string>();
    for (const row of rows) {
      const copy = new Uint8Array(row.vector.byteLength);
      copy.set(row.vector);
      slab.set(row.doc_id, new Float32Array(copy.buffer));
      entityOf.set(row.doc_id, row.entity_id);
    }
    const vectors = await embedder.embed(queries);
    let found = 0;
    let expected = 0;
    for (const [i, query] of queries.entries()) {
      const vector = vectors[i];
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
    db.close();
    await embedder.close();
  }
}
