import type { Embedder } from '../embeddings/embedder.js';
import { admitsAllVisible, type MemoryStore, type StoreFilters } from '../store/store.js';
import type { VectorIndex, VectorIndexStats } from '../vector/vector-index.js';

export interface VectorHit {
  doc_id: number;
  similarity: number;
}

/** The semantic leg of search: embed the query, then find the nearest records that pass the filters. */
export interface VectorSearch {
  readonly modelKey: string;
  search(query: string, filters: StoreFilters, k: number): Promise<VectorHit[]>;
  /** Bring the index up to date with every committed write. */
  catchUp(): void;
  stats(): VectorIndexStats;
}

export function createVectorSearch(embedder: Embedder, index: VectorIndex, store: MemoryStore): VectorSearch {
  return {
    modelKey: embedder.model.key,
    async search(query, filters, k) {
      const [vector] = await embedder.embed([query]);
      if (!vector) return [];
      // Read-your-writes: anything committed before this search is in the index.
      index.catchUp();
      const admitted = admitsAllVisible(filters) ? undefined : await store.filterDocIds(filters);
      if (admitted && admitted.length === 0) return [];
      // Nearest neighbours always exist; ones sharing nothing with the query are noise, not matches.
      return index
        .search(vector, k, admitted)
        .filter((n) => n.similarity > 0)
        .map((n) => ({ doc_id: n.docId, similarity: n.similarity }));
    },
    catchUp: () => void index.catchUp(),
    stats: () => index.stats(),
  };
}
