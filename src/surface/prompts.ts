import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  type GetPromptResult,
  type Prompt,
} from '@modelcontextprotocol/sdk/types.js';
import type { Goal, GoalSummary } from '../domain/goal.js';
import { GOAL_STATUSES } from '../domain/goal.js';
import { LAYERS } from '../domain/memory.js';
import type { Principal } from '../domain/principal.js';
import type { RatedHit } from '../domain/search.js';
import { mayCall } from '../tools/access.js';
import { invalidParams, type AuditedRequests, type RunTool } from '../tools/audited-request.js';
import { goalUri, GOAL_TEMPLATE } from '../tools/resource-uris.js';
import { clip, hitLine, MAX_BODY_CHARS, oneLine, outcomeLines, planLines } from './render.js';
import { scopesOf } from './resources.js';

/** Memories and related goals a recall packs, at most. */
const RECALL_MEMORIES = 8;
const RECALL_GOALS = 3;
const PLAN_GOALS = 3;
const PLAN_LESSONS = 6;
/** Completion values returned at most (MCP's own cap). */
const MAX_COMPLETIONS = 100;

interface PromptSpec extends Prompt {
  /** The tool the prompt leads to (or reads with): listed only to principals who may call it. */
  readonly needs: string;
}

const NAMESPACE_ARG = { name: 'namespace', description: 'Where to look; default: the server\'s (or the key\'s first namespace). "*": every namespace.', required: false };

export const PROMPTS: readonly PromptSpec[] = [
  {
    name: 'recall',
    title: 'Recall what we know',
    description: 'Recall what we know before starting a task: the best matching memories, and related goals with their outcomes and lessons.',
    arguments: [
      { name: 'task', description: 'The task about to start, in a sentence.', required: true },
      NAMESPACE_ARG,
      { name: 'layer', description: `Only memories of this layer: ${LAYERS.join(', ')}.`, required: false },
    ],
    needs: 'search_memory',
  },
  {
    name: 'record_outcome',
    title: 'Record how this went',
    description: 'Record how a goal went: shows its plan and steps, and guides an outcome with a summary and lessons that later searches will find.',
    arguments: [{ name: 'goal_id', description: 'The goal (completions: ids by prefix, or words of its title).', required: true }],
    needs: 'record_outcome',
  },
  {
    name: 'plan_goal',
    title: 'Plan a goal',
    description: 'Plan a new goal: brings similar past goals with their outcomes, and lessons learned, before creating it with remember_goal.',
    arguments: [{ name: 'title', description: 'The goal in one line.', required: true }, NAMESPACE_ARG],
    needs: 'remember_goal',
  },
];

/** The prompts a principal may use: each one's tool must be callable by it. */
export const promptsFor = (principal: Principal): PromptSpec[] => PROMPTS.filter((p) => mayCall(principal, p.needs));

const listed = ({ needs: _needs, ...prompt }: PromptSpec): Prompt => prompt;

function required(args: Record<string, string> | undefined, name: string, prompt: string): string {
  const value = args?.[name]?.trim();
  if (!value) throw invalidParams(`the ${prompt} prompt needs the argument ${name}`);
  return value;
}

const optionalArg = (args: Record<string, string> | undefined, name: string): string | undefined => {
  const value = args?.[name]?.trim();
  return value ? value : undefined;
};

const userMessage = (description: string, text: string): GetPromptResult => ({
  description,
  messages: [{ role: 'user', content: { type: 'text', text: clip(text, MAX_BODY_CHARS, 'open the records named above with resources/read, get_memory or get_goal') } }],
});

/** Search through the tool, as the principal: its namespaces and role apply. */
const search = async (run: RunTool, args: Record<string, unknown>): Promise<RatedHit[]> => ((await run('search_memory', args)) as { hits: RatedHit[] }).hits;

/** The goals among hits, whole, for their outcomes and lessons. */
async function goalsOfHits(run: RunTool, hits: readonly RatedHit[]): Promise<Goal[]> {
  const goals: Goal[] = [];
  for (const hit of hits) goals.push(((await run('get_goal', { goal_id: hit.id })) as { goal: Goal }).goal);
  return goals;
}

function relatedGoalLines(goals: readonly Goal[]): string[] {
  return goals.flatMap((g) => ['', `### ${oneLine(g.title, 200)} (${g.status}; ${goalUri(g.id)})`, ...outcomeLines(g).slice(1)]);
}

async function recall(run: RunTool, args: Record<string, string> | undefined): Promise<GetPromptResult> {
  const task = required(args, 'task', 'recall');
  const namespace = optionalArg(args, 'namespace');
  const layer = optionalArg(args, 'layer');
  if (layer !== undefined && !(LAYERS as readonly string[]).includes(layer)) throw invalidParams(`layer must be one of ${LAYERS.join(', ')}; got ${JSON.stringify(oneLine(layer, 50))}`);
  const where = namespace === undefined ? {} : { namespace };
  const memories = await search(run, { ...where, query: task, types: ['memory'], limit: RECALL_MEMORIES, snippet_chars: 400, ...(layer ? { layers: [layer] } : {}) });
  const goals = await goalsOfHits(run, await search(run, { ...where, query: task, types: ['goal'], limit: RECALL_GOALS }));
  const lines = [
    `Before starting this task, recall what the memory holds about it.`,
    '',
    `Task: ${task}`,
    '',
    '## Memories (best first)',
    ...(memories.length ? memories.map((h) => `${hitLine(h, 400)}${h.relevance && h.relevance !== 'strong' ? ` (${h.relevance} match)` : ''}`) : ['(no memory matches)']),
    '',
    '## Related goals, with outcomes and lessons',
    ...(goals.length ? relatedGoalLines(goals) : ['(no related goal)']),
    '',
    'Use what applies and say which memories you relied on; a snippet is part of a memory, open it for the whole text. Weak matches may be unrelated. Store what you learn with remember, and track the work with remember_goal.',
  ];
  return userMessage(`What the memory holds about: ${oneLine(task, 100)}`, lines.join('\n'));
}

async function recordOutcomeGuide(run: RunTool, args: Record<string, string> | undefined): Promise<GetPromptResult> {
  const goalId = required(args, 'goal_id', 'record_outcome');
  const { goal } = (await run('get_goal', { goal_id: goalId })) as { goal: Goal };
  const lines = [
    `Record how this goal went: "${oneLine(goal.title, 200)}" (${goal.id}, now ${goal.status}).`,
    '',
    ...planLines(goal),
    '',
    ...outcomeLines(goal),
    '',
    'Call record_outcome with:',
    `- goal_id: "${goal.id}" (and step_id for one step's outcome instead of the whole goal's)`,
    '- result: success, failure or partial',
    '- summary: what happened, in two or three sentences a stranger would understand',
    '- lessons: what to do again or to avoid next time, each one sentence that stands on its own (a later search for a similar task finds it by its words)',
    'A success or failure moves the goal\'s status (set update_status to false to keep it). Update step statuses first with remember_goal if they changed.',
  ];
  return userMessage(`Record the outcome of goal ${goal.id}`, lines.join('\n'));
}

async function planGoal(run: RunTool, args: Record<string, string> | undefined): Promise<GetPromptResult> {
  const title = required(args, 'title', 'plan_goal');
  const namespace = optionalArg(args, 'namespace');
  const where = namespace === undefined ? {} : { namespace };
  const similar = await goalsOfHits(run, await search(run, { ...where, query: title, types: ['goal'], limit: PLAN_GOALS }));
  const lessons = await search(run, { ...where, query: title, kinds: ['lesson'], limit: PLAN_LESSONS, snippet_chars: 400 });
  const lines = [
    `Plan this goal: ${title}`,
    '',
    '## Similar past goals',
    ...(similar.length
      ? similar.flatMap((g) => ['', `### ${oneLine(g.title, 200)} (${g.status}; ${goalUri(g.id)})`, ...planLines(g).slice(1), ...outcomeLines(g).slice(1)])
      : ['(none found)']),
    '',
    '## Lessons learned',
    ...(lessons.length ? lessons.map((h) => hitLine(h, 400)) : ['(none found)']),
    '',
    'Draft a short plan of ordered steps that applies these lessons, then call remember_goal with title, description, success_criteria and plan (the steps; if_duplicate: "return_existing" reuses an active goal that is the same). If one of the goals above is this goal, update it with its goal_id instead.',
  ];
  return userMessage(`Plan: ${oneLine(title, 100)}`, lines.join('\n'));
}

const GET: Record<string, (run: RunTool, args: Record<string, string> | undefined) => Promise<GetPromptResult>> = {
  recall,
  record_outcome: recordOutcomeGuide,
  plan_goal: planGoal,
};

/** Values starting with (or, for goals, whose title holds) what was typed, at most MAX_COMPLETIONS. */
function completion(values: readonly string[]): { completion: { values: string[]; total: number; hasMore: boolean } } {
  return { completion: { values: values.slice(0, MAX_COMPLETIONS), total: values.length, hasMore: values.length > MAX_COMPLETIONS } };
}

async function completeGoalId(run: RunTool, principal: Principal, typed: string): Promise<string[]> {
  const needle = typed.trim().toLowerCase();
  const goals: GoalSummary[] = [];
  for (const namespace of scopesOf(principal)) goals.push(...((await run('list_goals', { namespace, statuses: GOAL_STATUSES, limit: 100 })) as { goals: GoalSummary[] }).goals);
  // Active goals first, then the rest; newest first within each.
  goals.sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active') || (a.id < b.id ? 1 : -1));
  return goals.filter((g) => g.id.toLowerCase().startsWith(needle) || g.title.toLowerCase().includes(needle)).map((g) => g.id);
}

async function completeNamespace(run: RunTool, principal: Principal, typed: string): Promise<string[]> {
  const known = principal.namespaces ?? ['*', ...Object.keys(((await run('memory_stats', {})) as { by_namespace: Record<string, number> }).by_namespace)];
  return [...new Set(known)].filter((n) => n.startsWith(typed));
}

/** prompts/list, prompts/get and completion/complete for one principal; gets and completions audited. */
export function registerPrompts(server: Server, principal: Principal, requests: AuditedRequests, signalFor: (extra: { requestId: string | number; signal: AbortSignal }) => AbortSignal): void {
  const offered = promptsFor(principal);
  const byName = new Map(offered.map((p) => [p.name, p]));
  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: offered.map(listed) }));

  server.setRequestHandler(GetPromptRequestSchema, (request, extra) => {
    const { name, arguments: args } = request.params;
    return requests.run('prompts/get', { name, arguments: args ?? {} }, signalFor(extra), async (run) => {
      if (!byName.has(name)) {
        throw invalidParams(`unknown prompt ${JSON.stringify(oneLine(name, 64))}; this key may use ${offered.map((p) => p.name).join(', ') || 'none'}`);
      }
      return GET[name]!(run, args);
    });
  });

  server.setRequestHandler(CompleteRequestSchema, (request, extra) => {
    const { ref, argument } = request.params;
    return requests.run('completion/complete', { ref, argument }, signalFor(extra), async (run) => {
      const typed = argument.value;
      // A name we do not know has nothing to complete: completion is a hint, never a failure.
      if (ref.type === 'ref/resource') {
        if (ref.uri === GOAL_TEMPLATE && argument.name === 'id') return completion(await completeGoalId(run, principal, typed));
        return completion([]);
      }
      if (!byName.has(ref.name)) return completion([]);
      switch (argument.name) {
        case 'goal_id':
          return completion(await completeGoalId(run, principal, typed));
        case 'namespace':
          return completion(await completeNamespace(run, principal, typed));
        case 'layer':
          return completion(LAYERS.filter((l) => l.startsWith(typed)));
        default:
          return completion([]);
      }
    });
  });
}
