/**
 * pgvector's HNSW index over full (vector, 4 bytes a dimension) or half
 * precision (halfvec, 2 bytes) copies of the same vectors: index size, build
 * time, recall@10 against exact float32 search, and query latency. Decides
 * whether the PostgreSQL backend should index halfvec.
 *
 *   npm run bench:halfvec -- [--sizes 10000] [--queries 100] [--ef-search 200]
 *
 * Runs on PGlite with pgvector, in this process (one WebAssembly backend:
 * the sizes and recall carry over to a PostgreSQL server, the times only
 * compare the two here). The vectors are the bundled model's embeddings of
 * the benchmark's generated memories, as the server would store them.
 * Prints JSON.
 */
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { Config } from '../../src/config.js';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';
import { TopK, VectorSlab } from '../../src/vector/vector-slab.js';
import { memories, queries } from './data.js';
import { describeMachine, summarize } from './stats.js';

/** The server's defaults (--hnsw-m, --hnsw-ef-construction, --hnsw-ef-search). */
const defaults = Config.parse({ dataDir: '.' });
const HNSW = { m: defaults.hnswM, efConstruction: defaults.hnswEfConstruction };

const { values: flags } = parseArgs({
  options: { sizes: { type: 'string', default: '10000' }, queries: { type: 'string', default: '100' }, 'ef-search': { type: 'string', default: String(defaults.hnswEfSearch) } },
});
const sizes = flags.sizes.split(',').map(Number);
const queryCount = Number(flags.queries);
const efSearch = Number(flags['ef-search']);
if (sizes.some((n) => !Number.isInteger(n) || n < 100) || !Number.isInteger(queryCount) || !Number.isInteger(efSearch)) {
  process.stderr.write('bench:halfvec: --sizes, --queries and --ef-search take whole numbers (sizes of at least 100)\n');
  process.exit(1);
}

const literal = (values: Float32Array): string => `[${Array.prototype.join.call(values, ',')}]`;

async function embedAll(embedder: TransformersEmbedder, texts: string[]): Promise<Array<Float32Array | null>> {
  const out: Array<Float32Array | null> = [];
  for (let i = 0; i < texts.length; i += 256) out.push(...(await embedder.embed(texts.slice(i, i + 256))));
  return out;
}

const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
const embedder = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 1, maxBatch: 64 });
const dimension = embedder.model.dimension;
const results = [];
try {
  const queryTexts = queries(queryCount);
  const queryVectors = (await embedAll(embedder, queryTexts)).filter((v): v is Float32Array => v !== null);
  for (const size of sizes) {
    const texts = Array.from(memories(size), (m) => m.content);
    const vectors = await embedAll(embedder, texts);
    const db = await PGlite.create({ extensions: { vector } });
    try {
      await db.exec('CREATE EXTENSION vector; CREATE TABLE t (id INTEGER PRIMARY KEY, embedding vector)');
      const slab = new VectorSlab(dimension, 1024);
      for (let i = 0; i < size; i += 500) {
        const rows = vectors.slice(i, i + 500).flatMap((v, j) => (v ? [[i + j, literal(v)] as const] : []));
        for (const [id] of rows) slab.set(id, vectors[id]!);
        await db.query(`INSERT INTO t (id, embedding) SELECT id, v::vector FROM unnest($1::int[], $2::text[]) AS u(id, v)`, [rows.map((r) => r[0]), rows.map((r) => r[1])]);
      }
      const truth = queryVectors.map((q) => {
        const top = new TopK(10);
        for (const hit of slab.search(q, 10)) top.offer(hit.docId, hit.similarity);
        return new Set(top.sorted().map((hit) => hit.docId));
      });
      const tableBytes = (await db.query<{ n: number }>("SELECT pg_total_relation_size('t')::int AS n")).rows[0]!.n;
      const variants = [];
      for (const type of ['vector', 'halfvec'] as const) {
        const cast = `(embedding::${type}(${dimension}))`;
        const started = performance.now();
        await db.exec(`CREATE INDEX t_${type} ON t USING hnsw (${cast} ${type}_cosine_ops) WITH (m = ${HNSW.m}, ef_construction = ${HNSW.efConstruction})`);
        const buildMs = performance.now() - started;
        const indexBytes = (await db.query<{ n: number }>(`SELECT pg_relation_size('t_${type}')::int AS n`)).rows[0]!.n;
        await db.exec(`SET hnsw.ef_search = ${efSearch}`);
        const times: number[] = [];
        let found = 0;
        let expected = 0;
        for (const [i, q] of queryVectors.entries()) {
          const t0 = performance.now();
          const { rows } = await db.query<{ id: number }>(`SELECT id FROM t ORDER BY ${cast} <=> $1::${type}(${dimension}) LIMIT 10`, [literal(q)]);
          times.push(performance.now() - t0);
          expected += truth[i]!.size;
          found += rows.filter((row) => truth[i]!.has(row.id)).length;
        }
        variants.push({
          type,
          index_mb: Math.round((indexBytes / 2 ** 20) * 10) / 10,
          build_s: Math.round(buildMs / 100) / 10,
          recall_at_10: Math.round((found / Math.max(1, expected)) * 1000) / 1000,
          query_ms: summarize(times),
        });
        await db.exec(`DROP INDEX t_${type}`);
      }
      results.push({ size, dimension, table_mb: Math.round((tableBytes / 2 ** 20) * 10) / 10, variants });
      process.stderr.write(`bench:halfvec: ${size} done\n`);
    } finally {
      await db.close();
    }
  }
} finally {
  await embedder.close();
}
process.stdout.write(`${JSON.stringify({ machine: describeMachine(), backend: 'PGlite + pgvector (not production numbers)', hnsw: { ...HNSW, ef_search: efSearch }, queries: queryCount, results }, null, 2)}\n`);
