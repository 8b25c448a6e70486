import { z } from 'zod';
import { described } from '../domain/fields.js';
import { SearchHit, SearchRequest } from '../domain/search.js';
import { searchMemory } from '../memory/search.js';
import { defineTool } from './define-tool.js';

export const searchMemoryTool = defineTool({
  name: 'search_memory',
  title: 'Search memory',
  description: `Find stored memories, goals and plan steps by what they say. Call it before starting a task (to recall facts, preferences, past events, and lessons from similar goals) and whenever the user refers to something from before.
Default mode "hybrid" fuses keyword (BM25) and meaning (vector) rankings; use "keyword" for exact names, ids and rare terms, "vector" for paraphrases.
Memories in a thread (a conversation or session) are scored with their neighbours; set context to also get the turns around each hit.
Filter by namespace, layers, kinds (e.g. "lesson", "outcome", "goal", "step"), types, tags, goal_id and a time range; an empty query lists the newest records that pass the filters.
Returns ranked hits with a short snippet, a score and why each matched; call get_memory or get_goal with a hit's id for the whole record. Superseded memories are left out unless include_superseded is true.`,
  input: SearchRequest,
  output: z.object({
    hits: described(z.array(SearchHit), 'Best first.', []),
    mode: described(
      z.enum(['hybrid', 'keyword', 'vector', 'recent']),
      'How the hits were ranked: hybrid (keyword and vector fused), keyword (BM25), vector (cosine similarity), or recent (an empty query, newest first).',
      'hybrid',
    ),
    terms: described(z.array(z.string()), 'The words searched for, after dropping common words.', ['dark', 'mode']),
    note: z.string().optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handle: (args, deps, caller) => searchMemory(deps.memory, args, { confined: caller.confined === true, signal: caller.signal }),
  summarize: (r) => {
    if (r.hits.length === 0) return r.note ?? 'no matches';
    return r.hits
      .map(
        (h, i) =>
          `${i + 1}. [${h.type}${h.layer ? `/${h.layer}` : ''}/${h.kind}] ${h.id} (${h.occurred_at.slice(0, 10)}): ${h.snippet}` +
          h.context.map((c) => `\n   ${c.offset > 0 ? '+' : ''}${c.offset} ${c.id}: ${c.snippet}`).join(''),
      )
      .join('\n');
  },
  audit: (args, r, deps) => ({ namespace: args.namespace ?? deps.memory.defaultNamespace, returned: r?.hits.flatMap((h) => [h.id, ...h.context.map((c) => c.id)]) ?? [] }),
});
