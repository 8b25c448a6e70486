import { MemoryError, stopIfCancelled } from '../domain/errors.js';
import { toIsoTimestamp } from '../domain/fields.js';
import type { SearchHit, SearchMode, SearchRequest } from '../domain/search.js';
import type { DocView, KeywordHit, StoreFilters } from '../store/store.js';
import type { MemoryContext } from './context.js';
import { spreadToNeighbours } from './context-scoring.js';
import { rewardCoverage } from './soft-and.js';
import { boostNamedSpeakers } from './speaker-boost.js';
import { asksForList, LIST_BREADTH, spreadOverThreads } from './list-questions.js';
import { favourTimes } from './time-scoring.js';
import { addWindowScores } from './window-scoring.js';
import { creditReplies } from './reply-scoring.js';
import { fuseLegs, tieBreakHead } from './fusion.js';
import { queryTerms } from './query-terms.js';
import { dayTerm, namedDays, WHEN_TERM } from './time-expressions.js';
import { asksWhen } from './time-questions.js';
import { makeSnippet, matchedTerms } from './snippet.js';
import { isFlagged, trustOf } from '../domain/trust.js';
import { describeTrackRecord, trackRecordsOf, withTrackRecord } from './track-record.js';
import type { VectorHit } from './vector-search.js';

export interface SearchResult {
  hits: SearchHit[];
  mode: SearchMode | 'recent';
  terms: string[];
  note?: string;
}

/** How many candidates each leg contributes to fusion: enough for the fused top-k to be stable. */
const candidateDepth = (limit: number): number => Math.max(50, limit * 3);

/** How a search is scoped beyond its filters. */
export interface SearchScope {
  /**
   * The caller may read only the namespace searched (a namespace-limited
   * key): every score, rank and choice must come from that namespace's
   * records alone (see StoreFilters.confined).
   */
  readonly confined?: boolean;
  /** Aborted when the client cancels the call: the search stops between its steps. */
  readonly signal?: AbortSignal;
}

/** Resolve the request's filters: default namespace, "*" for all, UTC timestamps. */
export function storeFilters(ctx: MemoryContext, request: SearchRequest, scope: SearchScope = {}): StoreFilters {
  const filters: StoreFilters = {
    namespace: request.namespace === '*' ? null : (request.namespace ?? ctx.defaultNamespace),
    time_field: request.time_field,
    include_superseded: request.include_superseded,
  };
  if (scope.confined) {
    // Statistics of one namespace: "all namespaces" cannot be confined (namespace-scope.ts refuses it before).
    if (filters.namespace === null) throw new MemoryError('forbidden', 'forbidden: this key may search only its own namespaces; name one of them instead of "*"');
    filters.confined = true;
  }
  if (request.layers) filters.layers = request.layers;
  if (request.kinds) filters.kinds = request.kinds;
  if (request.types) filters.types = request.types;
  if (request.origins) filters.origins = request.origins;
  // Every record is trusted at least low: that minimum filters nothing.
  if (request.min_trust !== undefined && request.min_trust !== 'low') filters.min_trust = request.min_trust;
  if (request.tags_any) filters.tags_any = request.tags_any;
  if (request.tags_all) filters.tags_all = request.tags_all;
  if (request.goal_id !== undefined) filters.goal_id = request.goal_id;
  if (request.since !== undefined) filters.since = toIsoTimestamp(request.since);
  if (request.until !== undefined) filters.until = toIsoTimestamp(request.until);
  return filters;
}

interface Ranked {
  doc_id: number;
  score: number;
  keyword_rank: number | null;
  vector_rank: number | null;
  vector_similarity: number | null;
}

/** What the vector leg found: nearest neighbours (ranked), or only the similarities of the keyword head (tieBreakHead). */
interface VectorLegResult {
  hits: VectorHit[];
  failed: string | null;
  ranked: boolean;
}

/**
 * Start the vector leg: the query is embedded (in a worker thread) while the
 * keyword leg runs; the returned function finishes it, given the keyword hits
 * (null in vector mode). A failure yields nothing and why: a broken embedder must not break keyword search.
 */
function vectorLeg(ctx: MemoryContext, request: SearchRequest, filters: StoreFilters, depth: number): (keyword: readonly KeywordHit[] | null) => Promise<VectorLegResult> {
  const vectors = ctx.vectors;
  if (!vectors) return async () => ({ hits: [], failed: null, ranked: true });
  // Settled here, so a keyword leg that throws (a cancelled call) leaves no rejection unheard.
  const embedding = vectors.embedQuery(request.query, filters).then(
    (query) => ({ query, error: null }),
    (error: unknown) => ({ query: null, error }),
  );
  return async (keyword) => {
    try {
      const { query, error } = await embedding;
      if (!query) throw error;
      const head = keyword === null ? null : tieBreakHead(ctx.fusion, keyword, request.limit);
      return head ? { hits: await query.similarities(head), failed: null, ranked: false } : { hits: await query.nearest(depth), failed: null, ranked: true };
    } catch (error) {
      ctx.logger.warn({ err: error }, 'vector search failed; answering from the keyword index');
      return { hits: [], failed: (error as Error).message.split('\n')[0] ?? 'unknown error', ranked: true };
    }
  };
}

/**
 * The lexical pipeline: BM25, then soft AND, thread windows, answers to matching questions, neighbour spread,
 * named speakers and times asked about; a question asking for a list (list-questions.ts) weighs its speaker
 * more and spreads over threads.
 */
async function keywordLeg(ctx: MemoryContext, question: string, terms: string[], filters: StoreFilters, depth: number, signal?: AbortSignal) {
  const bm25 = await ctx.store.searchKeyword({ terms, filters, limit: depth });
  stopIfCancelled(signal);
  const matched = await rewardCoverage(ctx.store, bm25, terms, ctx.softAndWeight);
  const { window, reply } = ctx.context;
  const windows = window > 0 || reply > 0 ? await ctx.store.searchWindows({ terms, filters, limit: depth }) : [];
  stopIfCancelled(signal);
  const windowed = await addWindowScores(ctx.store, matched, windows, filters, window);
  // A thread memory that matches lies in a window that matches: with no window hit, no hit is in a thread to answer.
  const answered = windows.length > 0 ? await creditReplies(ctx.store, matched, windowed, filters, reply) : windowed;
  const spread = await spreadToNeighbours(ctx.store, answered, filters, ctx.context);
  const list = asksForList(question);
  const named = await boostNamedSpeakers(ctx.store, spread, terms, list ? ctx.speakerBoost * LIST_BREADTH.speakerFactor : ctx.speakerBoost, filters.confined === true);
  const broad = list ? await spreadOverThreads(ctx.store, named) : named;
  return favourTimes(ctx.store, broad, terms, question);
}

const keywordRanking = (hits: readonly KeywordHit[], limit: number): Ranked[] =>
  hits.slice(0, limit).map((hit, i) => ({ doc_id: hit.doc_id, score: hit.score, keyword_rank: i + 1, vector_rank: null, vector_similarity: null }));

async function rank(
  ctx: MemoryContext,
  request: SearchRequest,
  filters: StoreFilters,
  terms: string[],
  mode: SearchMode,
  signal?: AbortSignal,
): Promise<{ ranked: Ranked[]; mode: SearchMode; note?: string }> {
  // Keyword hits also seed their thread neighbours, so look a little deeper than the limit.
  const depth = mode === 'hybrid' ? candidateDepth(request.limit) : mode === 'keyword' ? Math.max(30, request.limit * 3) : request.limit;
  // Start the vector leg first: the query is embedded in a worker thread while the keyword leg runs here.
  const finishVectors = mode === 'keyword' ? null : vectorLeg(ctx, request, filters, depth);
  const keyword = mode === 'vector' ? [] : await keywordLeg(ctx, request.query, terms, filters, depth, signal);
  const vectorResult = finishVectors ? await finishVectors(mode === 'vector' ? null : keyword) : { hits: [], failed: null, ranked: true };
  if (vectorResult.failed !== null) {
    const fallback = mode === 'vector' ? await keywordLeg(ctx, request.query, terms, filters, Math.max(30, request.limit * 3), signal) : keyword;
    return { mode: 'keyword', ranked: keywordRanking(fallback, request.limit), note: `vector search failed just now (${vectorResult.failed}); these are keyword results` };
  }
  const vector = vectorResult.hits;
  if (mode === 'keyword') return { mode, ranked: keywordRanking(keyword, request.limit) };
  const similarity = new Map(vector.map((hit) => [hit.doc_id, hit.similarity]));
  if (mode === 'vector') {
    return { mode, ranked: vector.map((hit, i) => ({ doc_id: hit.doc_id, score: hit.similarity, keyword_rank: null, vector_rank: i + 1, vector_similarity: hit.similarity })) };
  }
  const fused = fuseLegs(ctx.fusion, keyword, vector, vectorResult.ranked);
  return {
    mode,
    ranked: fused.slice(0, request.limit).map((hit) => ({
      doc_id: hit.id,
      score: hit.score,
      keyword_rank: hit.ranks[0] ?? null,
      vector_rank: hit.ranks[1] ?? null,
      vector_similarity: similarity.get(hit.id) ?? null,
    })),
  };
}

/** Why the vector leg cannot run now, or null when it can. A confined search does not wait for the index while its namespace's stored vectors are few enough to scan. */
async function whyNoVectors(ctx: MemoryContext, filters: StoreFilters): Promise<string | null> {
  // An embedding service not answering yet says so in the model note.
  if (!ctx.vectors) return ctx.modelNote !== null ? `vector search is unavailable (${ctx.modelNote})` : 'vector search is unavailable (no embedding model loaded)';
  const state = ctx.vectors.state();
  if (state.state === 'loading' && !(await ctx.vectors.scansWhileLoading(filters))) return `the vector index is still loading (${Math.round((Date.now() - state.since) / 1000)} s since start)`;
  if (state.state === 'failed') return `vector search is unavailable (the vector index could not be opened: ${state.reason})`;
  return null;
}

/**
 * Find memories, goals and steps. `hybrid` fuses BM25 keyword ranking with
 * vector similarity by weighted reciprocal rank fusion; `keyword` and `vector`
 * use one leg. An empty query lists the newest records that pass the filters.
 * Hits carry a snippet around the match and the reason they matched.
 */
export async function searchMemory(ctx: MemoryContext, request: SearchRequest, scope: SearchScope = {}): Promise<SearchResult> {
  const filters = storeFilters(ctx, request, scope);
  const { signal } = scope;
  const terms = queryTerms(request.query);
  let ranked: Ranked[];
  let mode: SearchResult['mode'] = request.mode;
  let note: string | undefined;
  if (request.query.trim() === '') {
    const recent = await ctx.store.recent({ filters, limit: request.limit });
    ranked = recent.map((hit) => ({ doc_id: hit.doc_id, score: 0, keyword_rank: null, vector_rank: null, vector_similarity: null }));
    mode = 'recent';
  } else if (terms.length === 0) {
    return { hits: [], mode, terms, note: 'the query has no words to search for (only punctuation or symbols)' };
  } else {
    const unavailable = request.mode === 'keyword' ? null : await whyNoVectors(ctx, filters);
    if (unavailable) {
      mode = 'keyword';
      note = `${unavailable}; these are keyword results`;
    }
    // A day the question names in full is also looked for as its one-word index term (see dayTerm), and
    // a question about when also looks for memories that tell a time (WHEN_TERM). Neither is shown in `terms`.
    const searchTerms = [...terms, ...namedDays(request.query).map(dayTerm), ...(asksWhen(request.query) ? [WHEN_TERM] : [])];
    const result = await rank(ctx, request, filters, searchTerms, mode, signal);
    ranked = result.ranked;
    mode = result.mode;
    note ??= result.note;
  }

  stopIfCancelled(signal);
  const described = await ctx.store.describeDocs(ranked.map((hit) => hit.doc_id));
  const rankOf = new Map(ranked.map((hit) => [hit.doc_id, hit]));
  // Lessons that preceded successes move up, those that preceded failures down, within a near tie (track-record.ts).
  const records = await trackRecordsOf(ctx, described);
  const scoreOf = new Map(described.map((view) => [view.doc_id, mode === 'recent' ? 0 : withTrackRecord(rankOf.get(view.doc_id)!.score, records.get(view.entity_id))]));
  const views = records.size > 0 && mode !== 'recent' ? [...described].sort((a, b) => scoreOf.get(b.doc_id)! - scoreOf.get(a.doc_id)!) : described;
  const hits = views.map((view): SearchHit => {
    const r = rankOf.get(view.doc_id)!;
    const record = records.get(view.entity_id);
    const trust = trustOf({ origin: view.origin, flagged: isFlagged(view.injection) });
    return {
      id: view.entity_id,
      type: view.type,
      layer: view.layer,
      kind: view.kind,
      namespace: view.namespace,
      snippet: makeSnippet(view.text, terms, request.snippet_chars),
      score: Math.round(scoreOf.get(view.doc_id)! * 1e6) / 1e6,
      occurred_at: view.occurred_at,
      tags: view.tags,
      goal_id: view.goal_id,
      superseded: view.hidden,
      origin: view.origin,
      trust: trust.level,
      thread: view.thread_id !== null && view.thread_position !== null ? { id: view.thread_id, position: view.thread_position } : null,
      context: [],
      why: {
        keyword_rank: r.keyword_rank,
        vector_rank: r.vector_rank,
        vector_similarity: r.vector_similarity === null ? null : Math.round(r.vector_similarity * 1e4) / 1e4,
        matched_terms: mode === 'recent' ? [] : matchedTerms(terms, view.text),
        ...(record ? { track_record: describeTrackRecord(record) } : {}),
        trust: trust.reason,
      },
    };
  });
  if (request.context > 0) await attachContext(ctx, hits, views, terms, request);
  return { hits, mode, terms, ...(note ? { note } : {}) };
}

/** Give each hit its thread neighbours, each neighbour once, none that is itself a hit. */
async function attachContext(ctx: MemoryContext, hits: SearchHit[], views: readonly DocView[], terms: readonly string[], request: SearchRequest): Promise<void> {
  const hitDocs = new Set(views.map((view) => view.doc_id));
  const neighbours = await ctx.store.threadNeighbours(views.map((view) => view.doc_id), request.context);
  const claimed = new Set<number>();
  const wanted = neighbours.filter((n) => !hitDocs.has(n.doc_id) && !claimed.has(n.doc_id) && claimed.add(n.doc_id));
  const described = new Map((await ctx.store.describeDocs(wanted.map((n) => n.doc_id))).map((view) => [view.doc_id, view]));
  const hitOf = new Map(views.map((view, i) => [view.doc_id, hits[i]!]));
  for (const n of wanted.sort((a, b) => a.offset - b.offset)) {
    const view = described.get(n.doc_id);
    if (view) hitOf.get(n.center)?.context.push({ id: view.entity_id, offset: n.offset, snippet: makeSnippet(view.text, terms, request.snippet_chars) });
  }
}
