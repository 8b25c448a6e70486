import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  type Resource,
  type ResourceTemplate,
} from '@modelcontextprotocol/sdk/types.js';
import type { Goal, GoalSummary } from '../domain/goal.js';
import { GOAL_STATUSES } from '../domain/goal.js';
import type { Memory } from '../domain/memory.js';
import type { Principal } from '../domain/principal.js';
import type { RatedHit } from '../domain/search.js';
import { mayCall } from '../tools/access.js';
import { invalidParams, type AuditedRequests, type RunTool } from '../tools/audited-request.js';
import {
  ACTIVE_GOALS_URI,
  GOAL_TEMPLATE,
  goalUri,
  MEMORY_TEMPLATE,
  memoryUri,
  parseResourceUri,
  RECENT_URI,
  STATS_URI,
} from '../tools/resource-uris.js';
import { goalBody, goalListLine, hitLine, memoryBody, oneLine } from './render.js';

/** Resources a resources/list page holds at most. */
export const PAGE_SIZE = 50;
/** The newest goals and memories resources/list offers, each: a listing to browse, not an export. */
export const LISTED_RECORDS = 100;
/** Goals and memories the fixed resources show. */
const ACTIVE_GOALS_SHOWN = 50;
const RECENT_SHOWN = 20;

const MARKDOWN = 'text/markdown';

const FIXED: ReadonlyArray<Resource & { needs: string }> = [
  { uri: ACTIVE_GOALS_URI, name: 'active-goals', title: 'Active goals', description: 'The active goals, most important first, with step progress.', mimeType: MARKDOWN, needs: 'list_goals' },
  { uri: RECENT_URI, name: 'recent', title: 'Recent memories', description: `The ${RECENT_SHOWN} newest memories, with snippets.`, mimeType: MARKDOWN, needs: 'search_memory' },
  { uri: STATS_URI, name: 'stats', title: 'Memory statistics', description: 'Counts of what is stored and the embedding model\'s progress (no memory text).', mimeType: 'application/json', needs: 'memory_stats' },
];

export const TEMPLATES: readonly ResourceTemplate[] = [
  { uriTemplate: GOAL_TEMPLATE, name: 'goal', title: 'A goal', description: 'A goal with its plan, steps, outcomes and lessons.', mimeType: MARKDOWN },
  { uriTemplate: MEMORY_TEMPLATE, name: 'memory', title: 'A memory', description: 'A memory with its tags and metadata (long text trimmed).', mimeType: MARKDOWN },
];

const UNKNOWN_URI = `this server serves ${ACTIVE_GOALS_URI}, ${RECENT_URI}, ${STATS_URI}, ${GOAL_TEMPLATE} and ${MEMORY_TEMPLATE}`;

/** The namespaces a principal's listings cover: its own, or every one. */
export const scopesOf = (principal: Principal): readonly string[] => principal.namespaces ?? ['*'];

/** Every listing entry has a place: its section (fixed, goals, memories) and, within goals and memories, its id, newest first. */
interface Place {
  s: number;
  i: string;
}

const compare = (a: Place, b: Place): number => a.s - b.s || (a.s === 0 ? cmp(a.i, b.i) : cmp(b.i, a.i));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const CURSOR_ID = /^[0-9A-Za-z_-]{1,64}$/;

export function encodeCursor(place: Place): string {
  return Buffer.from(JSON.stringify({ v: 1, s: place.s, i: place.i })).toString('base64url');
}

/** The place a cursor stands after; an invalid-params error for anything that is not one of ours. */
export function decodeCursor(cursor: string): Place {
  const bad = (): Error => invalidParams('invalid cursor: pass the nextCursor of the previous resources/list answer unchanged, or no cursor to start from the beginning');
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const place = value as { v?: unknown; s?: unknown; i?: unknown } | null;
  if (!place || typeof place !== 'object' || place.v !== 1 || !Number.isInteger(place.s) || (place.s as number) < 0 || (place.s as number) > 2 || typeof place.i !== 'string' || !CURSOR_ID.test(place.i)) throw bad();
  return { s: place.s as number, i: place.i };
}

/** Goals of every namespace the principal reaches, newest first, at most `limit`. */
async function goalsOf(run: RunTool, principal: Principal, statuses: readonly string[], limit: number): Promise<GoalSummary[]> {
  const goals: GoalSummary[] = [];
  for (const namespace of scopesOf(principal)) {
    const { goals: found } = (await run('list_goals', { namespace, statuses, limit: Math.min(limit, 100) })) as { goals: GoalSummary[] };
    goals.push(...found);
  }
  return goals.sort((a, b) => cmp(b.id, a.id)).slice(0, limit);
}

/** Memories of every namespace the principal reaches, newest stored first, at most `limit`. */
async function memoriesOf(run: RunTool, principal: Principal, limit: number, snippet = 80): Promise<RatedHit[]> {
  const hits: RatedHit[] = [];
  for (const namespace of scopesOf(principal)) {
    const { hits: found } = (await run('search_memory', { namespace, query: '', types: ['memory'], limit, snippet_chars: Math.max(40, snippet) })) as { hits: RatedHit[] };
    hits.push(...found);
  }
  return hits;
}

/** The whole listing, in order: the fixed resources the principal may read, then goals, then memories. */
async function listing(run: RunTool, principal: Principal): Promise<Array<{ place: Place; resource: Resource }>> {
  const fixed = FIXED.filter((r) => mayCall(principal, r.needs)).map(({ needs: _needs, ...resource }, i) => ({ place: { s: 0, i: String(i) }, resource }));
  const goals = (await goalsOf(run, principal, GOAL_STATUSES, LISTED_RECORDS)).map((g) => ({
    place: { s: 1, i: g.id },
    resource: { uri: goalUri(g.id), name: `goal ${g.id}`, title: oneLine(g.title, 80), description: `${g.status} goal in ${g.namespace}, ${g.steps_done}/${g.steps_total} steps done`, mimeType: MARKDOWN },
  }));
  const memories = (await memoriesOf(run, principal, LISTED_RECORDS))
    .sort((a, b) => cmp(b.id, a.id))
    .slice(0, LISTED_RECORDS)
    .map((m) => ({
      place: { s: 2, i: m.id },
      resource: { uri: memoryUri(m.id), name: `memory ${m.id}`, title: oneLine(m.snippet, 80), description: `${m.layer}/${m.kind} memory in ${m.namespace}, ${m.occurred_at.slice(0, 10)}`, mimeType: MARKDOWN },
    }));
  return [...fixed, ...goals, ...memories];
}

/** resources/list, resources/templates/list and resources/read for one principal, every read audited. */
export function registerResources(server: Server, principal: Principal, requests: AuditedRequests, signalFor: (extra: { requestId: string | number; signal: AbortSignal }) => AbortSignal): void {
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: [...TEMPLATES] }));

  server.setRequestHandler(ListResourcesRequestSchema, (request, extra) => {
    const cursor = request.params?.cursor;
    return requests.run('resources/list', { cursor: cursor ?? null }, signalFor(extra), async (run) => {
      const after = cursor === undefined ? null : decodeCursor(cursor);
      const all = await listing(run, principal);
      const rest = after === null ? all : all.filter((entry) => compare(entry.place, after) > 0);
      const page = rest.slice(0, PAGE_SIZE);
      const last = page.at(-1);
      return {
        resources: page.map((entry) => entry.resource),
        ...(rest.length > PAGE_SIZE && last ? { nextCursor: encodeCursor(last.place) } : {}),
      };
    });
  });

  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => {
    const { uri } = request.params;
    return requests.run('resources/read', { uri }, signalFor(extra), async (run) => {
      const parsed = parseResourceUri(uri);
      if (!parsed) throw invalidParams(`unknown resource URI ${JSON.stringify(oneLine(uri, 200))}: ${UNKNOWN_URI}`);
      const text = (body: string, mimeType = MARKDOWN) => ({ contents: [{ uri, mimeType, text: body }] });
      switch (parsed.kind) {
        case 'memory': {
          const { memories } = (await run('get_memory', { id: parsed.id })) as { memories: Memory[] };
          return text(memoryBody(memories[0]!));
        }
        case 'goal': {
          const { goal } = (await run('get_goal', { goal_id: parsed.id })) as { goal: Goal };
          return text(goalBody(goal));
        }
        case 'active-goals': {
          const goals = await goalsOf(run, principal, ['active'], ACTIVE_GOALS_SHOWN + 1);
          // Most important first, as list_goals orders them.
          const rank = (g: GoalSummary) => ['critical', 'high', 'normal', 'low'].indexOf(g.priority);
          const shown = goals.slice(0, ACTIVE_GOALS_SHOWN).sort((a, b) => rank(a) - rank(b) || cmp(b.updated_at, a.updated_at));
          const lines = ['# Active goals', ...(shown.length ? shown.map(goalListLine) : ['(none)'])];
          if (goals.length > ACTIVE_GOALS_SHOWN) lines.push(`… (only the newest ${ACTIVE_GOALS_SHOWN} shown; call list_goals for more)`);
          return text(lines.join('\n'));
        }
        case 'recent': {
          const hits = (await memoriesOf(run, principal, RECENT_SHOWN, 200)).sort((a, b) => cmp(b.occurred_at, a.occurred_at)).slice(0, RECENT_SHOWN);
          return text(['# Recent memories (newest first; snippets: open a memory for its text)', ...(hits.length ? hits.map((h) => hitLine(h, 200)) : ['(none)'])].join('\n'));
        }
        case 'stats': {
          const stats = await run('memory_stats', {});
          return text(JSON.stringify(stats, null, 1), 'application/json');
        }
      }
    });
  });
}
