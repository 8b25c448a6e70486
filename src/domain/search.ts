import { z } from 'zod';
import { bare, described, Id, Namespace, singleLine, stringList, Tag, Timestamp } from './fields.js';
import { Layer } from './memory.js';
import { Origin } from './provenance.js';
import { TrustLevel } from './trust.js';

export const RECORD_TYPES = ['memory', 'goal', 'step'] as const;
export const RecordType = z.enum(RECORD_TYPES);
export type RecordType = z.infer<typeof RecordType>;

export const SEARCH_LIMIT_MAX = 100;
/** The range of search_memory's max_tokens: below 200 not even one hit with its label fits; 32,000 is more than any client passes on from one tool call. */
export const MAX_TOKENS_MIN = 200;
export const MAX_TOKENS_MAX = 32_000;

/** Filters shared by every search mode. */
export const SearchFilters = z.strictObject({
  namespace: described(
    z.union([Namespace, z.literal('*')]).optional(),
    'Default: the server\'s; "*": all.',
    'project-x',
  ),
  layers: described(stringList(Layer, { max: 3 }).optional(), 'Only these layers (leaves out goals and steps).', ['procedural']),
  kinds: described(stringList(singleLine(z.string().min(1).max(48)), { max: 20 }).optional(), 'Only these kinds; goals are "goal", plan steps "step".', ['lesson']),
  types: described(stringList(RecordType, { max: 3 }).optional(), 'Only these record types.', ['memory']),
  // Bare in tools/list: the filters beside it say what "only these" means.
  origins: bare(stringList(Origin, { max: 6 }).optional(), 'Only records from these origins (user, agent, tool, web, import, system).', ['user', 'agent']),
  // Bare in tools/list: the tool's description says what the levels mean.
  min_trust: bare(TrustLevel.optional(), 'Only records trusted at least this much (see trust in the hits): high leaves out all but what a user or the server wrote.', 'medium'),
  // Bare in tools/list, as are tags_all, time_field and include_superseded: their names say what they do.
  tags_any: bare(stringList(Tag, { max: 32 }).optional(), 'Only records with any of these tags.', ['billing']),
  tags_all: bare(stringList(Tag, { max: 32 }).optional(), 'Only records with all of these tags.', ['billing', 'csv']),
  goal_id: described(Id.optional(), 'Only records linked to this goal.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  time_field: bare(z.enum(['occurred_at', 'created_at']).default('occurred_at'), 'The time since and until apply to.', 'occurred_at'),
  since: described(Timestamp.optional(), 'From this time (ISO 8601).', '2025-05-01'),
  until: described(Timestamp.optional(), 'Before this time (ISO 8601).', '2025-06-01'),
  include_superseded: bare(z.boolean().default(false), 'Also return corrected (superseded) memories.', false),
});
export type SearchFilters = z.infer<typeof SearchFilters>;

export const SEARCH_MODES = ['hybrid', 'keyword', 'vector'] as const;
export const SearchMode = z.enum(SEARCH_MODES);
export type SearchMode = z.infer<typeof SearchMode>;

export const SearchRequest = SearchFilters.extend({
  mode: described(
    SearchMode.default('hybrid'),
    'hybrid: words and meaning; keyword: exact words (names, ids, rare terms); vector: meaning only.',
    'hybrid',
  ),
  query: described(
    z.string().max(16_384).default(''),
    'Plain words. Empty: the newest records passing the filters.',
    'how did we fix the flaky billing export test',
  ),
  limit: described(z.number().int().min(1).max(SEARCH_LIMIT_MAX).default(10), 'Most hits to return.', 10),
  snippet_chars: described(z.number().int().min(40).max(2000).default(300), 'Longest snippet per hit.', 300),
  context: described(
    z.number().int().min(0).max(5).default(0),
    'Also return this many thread neighbours on each side of a hit: answers often sit next to matches.',
    1,
  ),
  max_tokens: described(
    z.number().int().min(MAX_TOKENS_MIN).max(MAX_TOKENS_MAX).optional(),
    'Fit the text answer in about this many tokens: snippets trimmed first, then hits left out (counted); adds linked goals and lessons.',
    800,
  ),
});
export type SearchRequest = z.infer<typeof SearchRequest>;

export const SearchHit = z.object({
  id: described(z.string(), 'Id of the memory, goal or step; pass it to get_memory or get_goal for the whole record.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  type: RecordType,
  layer: Layer.nullable(),
  kind: z.string(),
  namespace: z.string(),
  snippet: described(z.string(), 'The text around the best match, trimmed to snippet_chars.', 'Alice prefers dark mode in every editor.'),
  score: described(z.number(), 'Higher is better; comparable only within one result list.', 7.31),
  occurred_at: z.string(),
  tags: z.array(z.string()),
  goal_id: z.string().nullable(),
  superseded: z.boolean(),
  origin: described(Origin.nullable(), 'Where its text came from: user, agent, tool, web, import or system; null: not recorded.', 'agent'),
  trust: described(TrustLevel, 'How far its text may be relied on: high (a user or the server wrote it), medium (the agent, an import, or not recorded), low (a tool, a web page, or text that reads as instructions to a model); why.trust says which.', 'medium'),
  thread: described(
    z.object({ id: z.string(), position: z.number() }).nullable(),
    'The thread the memory belongs to and its position there, if any.',
    { id: 'chat-2025-05-08', position: 12 },
  ),
  context: described(
    z.array(z.object({ id: z.string(), offset: z.number().int(), snippet: z.string() })),
    'Neighbouring memories in the thread (offset −1 is just before), when context > 0; each memory appears once in a result.',
    [{ id: '01JD3Z6Q6H8W1V8N2X4C5B7E9G', offset: 1, snippet: 'Bob: yes, on Friday at noon.' }],
  ),
  why: described(
    z.object({
      keyword_rank: z.number().int().nullable(),
      vector_rank: z.number().int().nullable(),
      vector_similarity: z.number().nullable(),
      matched_terms: z.array(z.string()),
      track_record: z.string().optional(),
      trust: z.string(),
    }),
    'Why this hit came back: its rank in each search leg (null where it was not found; vector_rank also when the vector leg only scored the keyword hits), its cosine similarity to the query, the query words it contains, what its trust level comes from and, for a lesson, the outcomes it came from or was recalled before (successes rank it up, failures down).',
    { keyword_rank: 1, vector_rank: 3, vector_similarity: 0.62, matched_terms: ['dark', 'mode'], trust: "the agent's words" },
  ),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const RELEVANCES = ['strong', 'weak', 'context', 'vector-only'] as const;
/** How well a hit matches the query, in words a model can act on (memory/relevance.ts). */
export const Relevance = z.enum(RELEVANCES);
export type Relevance = z.infer<typeof Relevance>;

/** A hit as search_memory returns it: with its relevance. */
export const RatedHit = SearchHit.extend({
  relevance: described(
    Relevance.nullable(),
    'strong: holds most of the query\'s words; weak: holds some; context: holds none, found through its thread neighbours or date; vector-only: close in meaning, shares no word. null for an empty query.',
    'strong',
  ),
});
export type RatedHit = z.infer<typeof RatedHit>;

/** A goal some hits are linked to (a hit that is the goal, one of its steps, or a memory serving it), with the lessons its outcomes taught. */
export const LinkedGoal = z.object({
  id: z.string(),
  title: z.string(),
  status: z.string(),
  lessons: described(z.array(z.string()), 'Lessons of its newest outcomes, newest first (at most 10).', ['Stream large CSV exports instead of building them in memory.']),
});
export type LinkedGoal = z.infer<typeof LinkedGoal>;

/** What the text answer of a search with max_tokens holds and left out. */
export const AnswerBudget = z.object({
  max_tokens: z.number().int(),
  used_tokens: described(z.number().int(), 'The text answer\'s size by the same estimate (about 4 characters a token).', 742),
  trimmed: described(z.number().int(), 'Snippets shortened to fit.', 3),
  omitted: described(
    z.object({ hits: z.number().int(), context: z.number().int(), goals: z.number().int(), lessons: z.number().int() }),
    'What the text left out to fit (all of it is still in hits and goals).',
    { hits: 4, context: 6, goals: 0, lessons: 2 },
  ),
});
export type AnswerBudget = z.infer<typeof AnswerBudget>;
