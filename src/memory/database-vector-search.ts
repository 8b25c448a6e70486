import type { Embedder } from '../embeddings/embedder.js';
import type { NearestVectors } from '../store/store.js';
import type { VectorSearch } from './vector-search.js';

/**
 * The semantic leg over a database that searches vectors itself (PostgreSQL
 * with pgvector): nothing to load or replay, every committed vector is
 * searchable at once by every server on the database.
 */
export function createDatabaseVectorSearch(embedder: Embedder, database: NearestVectors): VectorSearch {
  return {
    modelKey: embedder.model.key,
    state: () => ({ state: 'ready' }),
    scansWhileLoading: async () => false,
    async search(query, filters, k) {
      const [vector] = await embedder.embed([query]);
      if (!vector || vector.length === 0) return [];
      const neighbours = await database.nearest(embedder.model.key, vector, filters, k);
      // Nearest neighbours always exist; ones sharing nothing with the query are noise, not matches.
      return neighbours.filter((n) => n.similarity > 0);
    },
    catchUp: () => {},
    stats: () => null,
    opened: async () => null,
  };
}
