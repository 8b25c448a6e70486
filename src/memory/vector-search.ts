import type { Embedder } from '../embeddings/embedder.js';
import type { Logger } from '../logging.js';
import { admitsAllVisible, type MemoryStore, type StoreFilters } from '../store/store.js';
import type { VectorIndex, VectorIndexStats } from '../vector/vector-index.js';
import { VectorSlab, type Neighbour } from '../vector/vector-slab.js';

export interface VectorHit {
  doc_id: number;
  similarity: number;
}

/** Where the index is: still loading after a start, serving, or failed to open. */
export type VectorIndexState = { state: 'loading'; since: number } | { state: 'ready' } | { state: 'failed'; reason: string };

/** A query embedded once, then compared either way: with the whole scope, or with given records only. */
export interface QueryVector {
  /** The k nearest records that pass the filters, nearest first (positive similarity only). */
  nearest(k: number): Promise<VectorHit[]>;
  /**
   * The similarity of each given record whose vector is stored, best first
   * (positive only; a record with no vector yet is left out). No neighbour
   * search: the records' vectors alone are read, so nothing outside them
   * (another namespace, say) is looked at.
   */
  similarities(docIds: readonly number[]): Promise<VectorHit[]>;
}

/** The semantic leg of search: embed the query, then find the nearest records that pass the filters. */
export interface VectorSearch {
  readonly modelKey: string;
  /** Search only when this is 'ready' (or 'loading', for a search confined to a namespace); until then the keyword leg answers alone. */
  state(): VectorIndexState;
  search(query: string, filters: StoreFilters, k: number): Promise<VectorHit[]>;
  /** Embed the query for a search with these filters; compare it afterwards (see QueryVector). Throws as search does. */
  embedQuery(query: string, filters: StoreFilters): Promise<QueryVector>;
  /** Whether a search confined to these filters' namespace can answer while the index loads (its vectors are few enough to scan from SQLite). */
  scansWhileLoading(filters: StoreFilters): Promise<boolean>;
  /** Bring the index up to date with every committed write (nothing to do while it loads: it reads them all). */
  catchUp(): void;
  /** Null until the index is open. */
  stats(): VectorIndexStats | null;
  /** The open index, once loading has finished (null if it failed or was stopped). */
  opened(): Promise<VectorIndex | null>;
}

/**
 * A search confined to one namespace scans its records exactly up to this
 * many vector components (50,000 records of the bundled model's 100
 * dimensions: about 9 ms), and at least as many records as any search would
 * (the exact-scan limit); a larger namespace walks the graph with a filter,
 * whose recall depends on the graph every namespace shares (see docs/architecture.md).
 */
const CONFINED_SCAN_COMPONENTS = 5_000_000;

/** How many records of one namespace a confined search scans exactly, for vectors of this many dimensions. */
const confinedScanLimit = (dimension: number, exactScanLimit = 0): number => Math.max(exactScanLimit, Math.floor(CONFINED_SCAN_COMPONENTS / dimension));

/**
 * Whether a confined search may list and scan its namespace: judged by the
 * namespace's count (kept by triggers), before any id is listed, so a large
 * namespace costs no listing of a million ids per query.
 */
async function scannable(store: MemoryStore, filters: StoreFilters, limit: number): Promise<boolean> {
  return (await store.scopeSize(filters)).docs <= limit;
}

/** How many more neighbours than wanted to fetch from a broad scope, over its share, before filtering. */
const OVERSAMPLE = 2;
const MAX_OVERSAMPLED = 2000;

/**
 * The k nearest records that pass the filters. A small scope is listed and
 * scanned exactly; a large one (a namespace holding more records than the
 * exact-scan limit, such as the default namespace of a single user) is
 * searched unfiltered for k / share × 2 neighbours, which are then filtered:
 * listing a namespace of 125,000 records took 100 ms at a million. If too few
 * pass (other filters narrow it further), the scope is listed after all.
 */
async function nearest(index: VectorIndex, store: MemoryStore, vector: Float32Array, filters: StoreFilters, k: number): Promise<Neighbour[]> {
  // A confined namespace too large to scan is searched as any other scope: through the graph, filtered.
  if (filters.confined && (await scannable(store, filters, confinedScanLimit(vector.length, index.exactScanLimit)))) {
    return scanNamespace(store, filters, (admitted) => index.scan(vector, k, admitted));
  }
  if (admitsAllVisible(filters)) return index.search(vector, k);
  const scope = await store.scopeSize(filters);
  if (scope.docs > index.exactScanLimit) {
    const want = Math.min(MAX_OVERSAMPLED, Math.ceil((k * OVERSAMPLE) / Math.max(scope.share, 1e-6)));
    const found = index.search(vector, want);
    const admitted = await store.admit(found.map((n) => n.docId), filters);
    const passing = found.filter((n) => admitted.has(n.docId));
    if (passing.length >= k || found.length < want) return passing.slice(0, k);
  }
  const admitted = await store.filterDocIds(filters);
  return admitted.length === 0 ? [] : index.search(vector, k, admitted);
}

/**
 * For a caller that may read one namespace only: its admitted records, in doc
 * id order (so equal similarities always rank alike), scanned exactly; the
 * graph other namespaces share is never consulted.
 */
async function scanNamespace(store: MemoryStore, filters: StoreFilters, scan: (admitted: number[]) => Neighbour[] | Promise<Neighbour[]>): Promise<Neighbour[]> {
  const admitted = (await store.filterDocIds(filters)).sort((a, b) => a - b);
  return admitted.length === 0 ? [] : scan(admitted);
}

/**
 * The same while the index is still loading (its time depends on the whole
 * store's size): the admitted records' vectors read from SQLite, where the
 * index reads them too, and scanned exactly, so the answer is the one the
 * loaded index gives. Only for namespaces small enough to scan (see scansWhileLoading).
 */
async function nearestStored(store: MemoryStore, modelKey: string, vector: Float32Array, filters: StoreFilters, k: number): Promise<Neighbour[]> {
  return scanNamespace(store, filters, async (admitted) => {
    const slab = new VectorSlab(vector.length, admitted.length);
    // Bytes of another length are not in the index either (a model's empty vector: nothing to embed).
    for (const row of await store.vectorsOf(admitted, modelKey)) slab.setBytes(row.doc_id, row.vector);
    return slab.search(vector, k, admitted);
  });
}

/** The given records' similarities, their vectors read from the store (the index is still loading). */
async function storedSimilarities(store: MemoryStore, modelKey: string, vector: Float32Array, docIds: readonly number[]): Promise<Neighbour[]> {
  const slab = new VectorSlab(vector.length, docIds.length);
  for (const row of await store.vectorsOf(docIds, modelKey)) slab.setBytes(row.doc_id, row.vector);
  return slab.search(vector, docIds.length, docIds);
}

/** Nearest neighbours always exist; ones sharing nothing with the query are noise, not matches. */
const positive = (neighbours: readonly Neighbour[]): VectorHit[] => neighbours.filter((n) => n.similarity > 0).map((n) => ({ doc_id: n.docId, similarity: n.similarity }));

/** A query with nothing to embed: it is close to no record. */
export const NO_QUERY: QueryVector = { nearest: async () => [], similarities: async () => [] };

/**
 * Vector search over an index that may still be loading. A large index takes
 * seconds to read at start (a million vectors from SQLite and a snapshot of a
 * gigabyte), and the server should answer meanwhile: keyword search works
 * from the first moment, and hybrid search adds the vector leg when it is ready.
 */
export function createVectorSearch(embedder: Embedder, opening: VectorIndex | Promise<VectorIndex>, store: MemoryStore, logger: Logger): VectorSearch {
  let index: VectorIndex | null = null;
  let state: VectorIndexState = { state: 'loading', since: Date.now() };
  const opened: Promise<VectorIndex | null> = Promise.resolve(opening).then(
    (ready) => {
      index = ready;
      state = { state: 'ready' };
      return ready;
    },
    (error: unknown) => {
      const reason = (error as Error).message.split('\n')[0] ?? 'unknown error';
      state = { state: 'failed', reason };
      if ((error as Error).name !== 'AbortError') logger.error({ err: error }, 'the vector index could not be opened; search answers from the keyword index');
      return null;
    },
  );
  const scansWhileLoading = (filters: StoreFilters): Promise<boolean> =>
    filters.confined === true ? scannable(store, filters, confinedScanLimit(embedder.model.dimension)) : Promise.resolve(false);
  const embedQuery = async (query: string, filters: StoreFilters): Promise<QueryVector> => {
    const loading = state.state === 'loading' && (await scansWhileLoading(filters));
    if (!index && !loading) throw new Error(`the vector index is not ready (${state.state})`);
    const [vector] = await embedder.embed([query]);
    if (!vector) return NO_QUERY;
    return {
      async nearest(k) {
        // Read-your-writes: anything committed before this search is in the index.
        index?.catchUp();
        const neighbours = index ? await nearest(index, store, vector, filters, k) : await nearestStored(store, embedder.model.key, vector, filters, k);
        return positive(neighbours);
      },
      async similarities(docIds) {
        if (docIds.length === 0) return [];
        index?.catchUp();
        // The index holds every vector read in memory; while it loads, the few asked for are read from the store.
        return positive(index ? index.scan(vector, docIds.length, docIds) : await storedSimilarities(store, embedder.model.key, vector, docIds));
      },
    };
  };
  return {
    modelKey: embedder.model.key,
    state: () => state,
    scansWhileLoading,
    search: async (query, filters, k) => (await embedQuery(query, filters)).nearest(k),
    embedQuery,
    catchUp: () => void index?.catchUp(),
    stats: () => index?.stats() ?? null,
    opened: () => opened,
  };
}
