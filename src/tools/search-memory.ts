import { z } from 'zod';
import { described } from '../domain/fields.js';
import { RatedHit, SearchRequest } from '../domain/search.js';
import { hitsToShow, rateHits } from '../memory/relevance.js';
import { searchMemory } from '../memory/search.js';
import { defineTool } from './define-tool.js';
import { recordLink } from './resource-uris.js';

/** One hit as a line of text: its relevance (with the query words a weak hit holds), what it is, its id, date and snippet. */
function hitLine(hit: RatedHit, i: number): string {
  const relevance = hit.relevance === null ? '' : `${hit.relevance}${hit.relevance === 'weak' ? ` (${hit.why.matched_terms.join(', ')})` : ''} `;
  return (
    `${i + 1}. ${relevance}[${hit.type}${hit.layer ? `/${hit.layer}` : ''}/${hit.kind}] ${hit.id} (${hit.occurred_at.slice(0, 10)}): ${hit.snippet}` +
    hit.context.map((c) => `\n   ${c.offset > 0 ? '+' : ''}${c.offset} ${c.id}: ${c.snippet}`).join('')
  );
}

export const searchMemoryTool = defineTool({
  name: 'search_memory',
  title: 'Search memory',
  description: `Find memories, goals and plan steps by what they say. Call it before a task and whenever the user refers to something from before. An empty query lists the newest records that pass the filters.
Returns ranked hits with snippets, each marked strong, weak (some of the words), context or vector-only (meaning only); call get_memory or get_goal for a whole record.`,
  input: SearchRequest,
  output: z.object({
    hits: described(z.array(RatedHit), 'Best first.', []),
    mode: described(
      z.enum(['hybrid', 'keyword', 'vector', 'recent']),
      'How the hits were ranked: hybrid (keyword and vector fused), keyword (BM25), vector (cosine similarity), or recent (an empty query, newest first).',
      'hybrid',
    ),
    terms: described(z.array(z.string()), 'The words searched for, after dropping common words.', ['dark', 'mode']),
    note: z.string().optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handle: async (args, deps, caller) => {
    // Expanding hits with their thread neighbours is the slow kind of search: a client that asked is told when it starts and ends.
    const report = args.context > 0 ? caller.progress : undefined;
    report?.(0, 1, 'searching, with thread context');
    const result = await searchMemory(deps.memory, args, { confined: caller.confined === true, signal: caller.signal });
    report?.(1, 1, `found ${result.hits.length} hit${result.hits.length === 1 ? '' : 's'}`);
    return { ...result, hits: rateHits(result.hits, result.terms, result.mode) };
  },
  summarize: (r) => {
    if (r.hits.length === 0) return r.note ?? 'no matches';
    const { shown, leftOut } = hitsToShow(r.hits);
    const lines = shown.map(hitLine);
    if (r.mode !== 'recent' && !r.hits.some((hit) => hit.relevance === 'strong')) lines.unshift(`no strong match (no hit holds most of: ${r.terms.join(', ')})`);
    if (r.note) lines.unshift(r.note);
    if (leftOut > 0) lines.push(`(${leftOut} more vector-only hit${leftOut === 1 ? '' : 's'}, far less similar than the best, left out)`);
    return lines.join('\n');
  },
  // Asked for meaning as well as words, answered from the keyword index alone: the vector leg is loading or failed
  // (not when vector search is off by configuration: nothing is degraded then).
  warning: (args, r, deps) => (deps.memory.vectors !== null && args.mode !== 'keyword' && r.mode === 'keyword' && r.note ? `degraded search: ${r.note}` : null),
  links: (r) => {
    // A step opens as its goal; each record once.
    const seen = new Set<string>();
    return r.hits.flatMap((hit) => {
      const [kind, id] = hit.type === 'memory' ? (['memory', hit.id] as const) : (['goal', hit.type === 'goal' ? hit.id : hit.goal_id] as const);
      if (id === null || seen.has(id)) return [];
      seen.add(id);
      return [recordLink(kind, id)];
    });
  },
  audit: (args, r, deps) => ({ namespace: args.namespace ?? deps.memory.defaultNamespace, returned: r?.hits.flatMap((h) => [h.id, ...h.context.map((c) => c.id)]) ?? [] }),
});
