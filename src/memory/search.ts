import { toIsoTimestamp } from '../domain/fields.js';
import type { SearchHit, SearchRequest } from '../domain/search.js';
import type { KeywordHit, StoreFilters } from '../store/store.js';
import type { MemoryContext } from './context.js';
import { queryTerms } from './query-terms.js';
import { makeSnippet, matchedTerms } from './snippet.js';

export interface SearchResult {
  hits: SearchHit[];
  mode: 'keyword' | 'recent';
  terms: string[];
  note?: string;
}

/** Resolve the request's filters: default namespace, "*" for all, UTC timestamps. */
export function storeFilters(ctx: MemoryContext, request: SearchRequest): StoreFilters {
  const filters: StoreFilters = {
    namespace: request.namespace === '*' ? null : (request.namespace ?? ctx.defaultNamespace),
    time_field: request.time_field,
    include_superseded: request.include_superseded,
  };
  if (request.layers) filters.layers = request.layers;
  if (request.kinds) filters.kinds = request.kinds;
  if (request.types) filters.types = request.types;
  if (request.tags_any) filters.tags_any = request.tags_any;
  if (request.tags_all) filters.tags_all = request.tags_all;
  if (request.goal_id !== undefined) filters.goal_id = request.goal_id;
  if (request.since !== undefined) filters.since = toIsoTimestamp(request.since);
  if (request.until !== undefined) filters.until = toIsoTimestamp(request.until);
  return filters;
}

/**
 * Find memories, goals and steps. A query with words is ranked by BM25 over
 * the full-text index; an empty query lists the newest records that pass the
 * filters. Hits carry a snippet around the match and the reason they matched.
 */
export async function searchMemory(ctx: MemoryContext, request: SearchRequest): Promise<SearchResult> {
  const filters = storeFilters(ctx, request);
  const terms = queryTerms(request.query);
  let ranked: KeywordHit[];
  let mode: SearchResult['mode'];
  if (request.query.trim() === '') {
    ranked = await ctx.store.recent({ filters, limit: request.limit });
    mode = 'recent';
  } else if (terms.length === 0) {
    return { hits: [], mode: 'keyword', terms, note: 'the query has no words to search for (only punctuation or symbols)' };
  } else {
    ranked = await ctx.store.searchKeyword({ terms, filters, limit: request.limit });
    mode = 'keyword';
  }

  const views = await ctx.store.describeDocs(ranked.map((hit) => hit.doc_id));
  const scoreOf = new Map(ranked.map((hit, i) => [hit.doc_id, { score: hit.score, rank: i + 1 }]));
  const hits = views.map((view): SearchHit => {
    const ranking = scoreOf.get(view.doc_id);
    return {
      id: view.entity_id,
      type: view.type,
      layer: view.layer,
      kind: view.kind,
      namespace: view.namespace,
      snippet: makeSnippet(view.text, terms, request.snippet_chars),
      score: Math.round((ranking?.score ?? 0) * 1e4) / 1e4,
      occurred_at: view.occurred_at,
      tags: view.tags,
      goal_id: view.goal_id,
      superseded: view.hidden,
      why: {
        keyword_rank: mode === 'keyword' ? (ranking?.rank ?? null) : null,
        matched_terms: mode === 'keyword' ? matchedTerms(terms, view.text) : [],
      },
    };
  });
  return { hits, mode, terms };
}
