import type { Embedder } from '../embeddings/embedder.js';
import type { NearestVectors, StoreFilters } from '../store/store.js';
import { NO_QUERY, type QueryVector, type VectorHit, type VectorSearch } from './vector-search.js';

type Scored = { doc_id: number; similarity: number };
const bySimilarity = (a: Scored, b: Scored): number => b.similarity - a.similarity || a.doc_id - b.doc_id;
/** Nearest neighbours always exist; ones sharing nothing with the query are noise, not matches. */
const positive = (hits: readonly Scored[]): VectorHit[] => hits.filter((n) => n.similarity > 0);

/**
 * The semantic leg over a database that searches vectors itself (PostgreSQL
 * with pgvector): nothing to load or replay, every committed vector is
 * searchable at once by every server on the database.
 */
export function createDatabaseVectorSearch(embedder: Embedder, database: NearestVectors): VectorSearch {
  const embedQuery = async (query: string, filters: StoreFilters): Promise<QueryVector> => {
    const [vector] = await embedder.embed([query]);
    if (!vector || vector.length === 0) return NO_QUERY;
    return {
      nearest: async (k) => positive(await database.nearest(embedder.model.key, vector, filters, k)),
      // By pgvector, as nearest measures it; a record with no vector stored yet is not among the rows.
      similarities: async (docIds) => (docIds.length === 0 ? [] : positive((await database.similarities(embedder.model.key, vector, docIds)).sort(bySimilarity))),
    };
  };
  return {
    modelKey: embedder.model.key,
    state: () => ({ state: 'ready' }),
    scansWhileLoading: async () => false,
    search: async (query, filters, k) => (await embedQuery(query, filters)).nearest(k),
    embedQuery,
    catchUp: () => {},
    stats: () => null,
    opened: async () => null,
  };
}
