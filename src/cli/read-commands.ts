import { existsSync } from 'node:fs';
import type { z } from 'zod';
import { databaseFile, type Config } from '../config.js';
import { createLogger } from '../logging.js';
import { openRuntime } from '../open-runtime.js';
import type { Runtime } from '../runtime.js';
import type { AnyTool } from '../tools/define-tool.js';
import { listGoalsTool } from '../tools/list-goals.js';
import { memoryStatsTool } from '../tools/memory-stats.js';
import { searchMemoryTool } from '../tools/search-memory.js';
import type { Command, CommandInput } from './command.js';
import { settingsOf, STORE_GROUPS } from './setting-groups.js';
import { pairs, stdoutScreen, table } from './table.js';
import { UsageError } from './usage-error.js';

/** The caller these commands call the tools as: the local user, named like the other commands. */
const CALLER = { clientName: 'pinak-memory cli' };

/**
 * Open the store as the server does (the same embedding model, vector index
 * and search settings, so that answers are the tools' answers), wait for
 * the vector index to be ready, run `use`, close. A data directory without
 * a database is refused rather than created.
 */
async function withRuntime<T>(config: Config, use: (runtime: Runtime) => Promise<T>): Promise<T> {
  if (config.databaseUrl === undefined && !existsSync(databaseFile(config))) {
    throw new UsageError(`no memory database in ${config.dataDir} (no ${databaseFile(config)}); give the data directory with --data-dir or PINAK_DATA_DIR`);
  }
  // The index's upkeep (a rebuild when no snapshot is saved yet) is the server's business, not a reader's: errors only, unless asked.
  const logger = createLogger(config.logLevel === 'info' ? 'error' : config.logLevel);
  const runtime = await openRuntime(config, logger, { reembed: false, audits: false });
  try {
    // A server answers from keywords while its index loads; a one-off command can wait for it.
    await runtime.memory.vectors?.opened();
    return await use(runtime);
  } finally {
    await runtime.close();
  }
}

/** A tool's arguments checked by the tool's own schema: a bad one is a usage error naming the option. */
function toolArgs<Tool extends AnyTool>(tool: Tool, args: Record<string, unknown>, flags: Record<string, string>): z.output<Tool['input']> {
  const parsed = tool.input.safeParse(args);
  if (parsed.success) return parsed.data as z.output<Tool['input']>;
  const issue = parsed.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  throw new UsageError(`${flags[field] ?? field}: ${issue.message}`);
}

/** Call a tool's handler as the server does, its output checked by the tool's own schema. */
async function callTool<Tool extends AnyTool>(runtime: Runtime, tool: Tool, args: z.output<Tool['input']>): Promise<z.output<Tool['output']>> {
  return tool.output.parse(await tool.handle(args, { memory: runtime.memory }, CALLER)) as z.output<Tool['output']>;
}

const list = (text: string | undefined): string[] | undefined =>
  text === undefined ? undefined : text.split(',').map((item) => item.trim()).filter((item) => item !== '');

function count(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} takes a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

const writeJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** `search "…"`: search_memory's hits as a table, or its whole answer as JSON. */
async function search({ config, options, operands }: CommandInput): Promise<number> {
  const flags = { query: 'the query', layers: '--layer', kinds: '--kind', types: '--type', tags_any: '--tags', namespace: '--namespace', limit: '--limit', mode: '--mode', since: '--since', until: '--until' };
  const args = toolArgs(
    searchMemoryTool,
    {
      query: operands[0] ?? '',
      layers: list(options.layer),
      kinds: list(options.kind),
      types: list(options.type),
      tags_any: list(options.tags),
      namespace: options.namespace,
      limit: count(options.limit, '--limit'),
      mode: options.mode,
      since: options.since,
      until: options.until,
    },
    flags,
  );
  return withRuntime(config, async (runtime) => {
    const result = await callTool(runtime, searchMemoryTool, args);
    if (options.json !== undefined) return writeJson(result), 0;
    if (result.note) process.stderr.write(`pinak-memory: ${result.note}\n`);
    if (result.hits.length === 0) {
      process.stderr.write('pinak-memory: no matches\n');
      return 0;
    }
    const rows = result.hits.map((hit, i) => [
      String(i + 1),
      hit.relevance ?? '',
      hit.type === 'memory' ? `${hit.layer}/${hit.kind}` : hit.type,
      hit.occurred_at.slice(0, 10),
      hit.namespace,
      hit.snippet,
    ]);
    process.stdout.write(table(['#', 'MATCH', 'KIND', 'DATE', 'NAMESPACE', 'TEXT'], rows, stdoutScreen(), [4, 3, 1]));
    return 0;
  });
}

/** `goals`: list_goals as a table, or its answer as JSON. */
async function goals({ config, options }: CommandInput): Promise<number> {
  const args = toolArgs(
    listGoalsTool,
    { statuses: options.status === 'all' ? ['active', 'achieved', 'failed', 'abandoned'] : list(options.status), namespace: options.namespace, limit: count(options.limit, '--limit') },
    { statuses: '--status', namespace: '--namespace', limit: '--limit' },
  );
  return withRuntime(config, async (runtime) => {
    const result = await callTool(runtime, listGoalsTool, args);
    if (options.json !== undefined) return writeJson(result), 0;
    if (result.goals.length === 0) {
      process.stderr.write('pinak-memory: no goals match\n');
      return 0;
    }
    const rows = result.goals.map((goal) => [goal.status, goal.priority, `${goal.steps_done}/${goal.steps_total}`, goal.updated_at.slice(0, 10), goal.id, goal.title]);
    process.stdout.write(table(['STATUS', 'PRIORITY', 'STEPS', 'UPDATED', 'ID', 'TITLE'], rows, stdoutScreen(), [3, 1, 4]));
    return 0;
  });
}

const counts = (record: Record<string, number>): string =>
  Object.entries(record)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ') || 'none';

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `stats`: memory_stats as aligned lines, or its answer as JSON. */
async function stats({ config, options }: CommandInput): Promise<number> {
  return withRuntime(config, async (runtime) => {
    const r = await callTool(runtime, memoryStatsTool, {});
    if (options.json !== undefined) return writeJson(r), 0;
    const e = r.embedding;
    const entries: Array<[string, string]> = [
      ['memories', `${r.memories_total}${r.memories_total > 0 ? ` (${counts(r.by_layer)})` : ''}`],
      ['kinds', counts(r.by_kind)],
      ['namespaces', `${counts(r.by_namespace)} (default: ${r.default_namespace})`],
      ['superseded', String(r.superseded)],
      ['held for review', String(r.held_for_review)],
      ['goals', counts(r.goals_by_status)],
      ['outcomes', String(r.outcomes)],
      ['audit rows', String(r.audit_rows)],
      ['database', `${bytes(r.database_bytes)}, schema v${r.schema_version}`],
      [
        'embeddings',
        e.model_id
          ? `${e.model_id}, ${e.embedded}/${e.records} records embedded, ${e.vectors_indexed} indexed${e.note ? `; ${e.note}` : ''}`
          : `none${e.note ? ` (${e.note})` : ''}`,
      ],
    ];
    process.stdout.write(pairs(entries, stdoutScreen()));
    return 0;
  });
}

/** The settings a read opens the store with: the store's, and the search tuning, as the server takes them. */
const READ_SETTINGS = settingsOf(...STORE_GROUPS, 'search');

const JSON_OPTION = { type: 'boolean', help: 'print the tool\'s whole answer as JSON (ids, scores, why each hit came back)' } as const;
const NAMESPACE_OPTION = { type: 'string', value: 'NS', help: 'this namespace (default: the configured one); * for all' } as const;

export const searchCommand: Command = {
  name: 'search',
  summary: 'search the memory as search_memory does, and print the hits as a table',
  usage: 'search QUERY [options]',
  details: `The same search as the search_memory tool, with the server's settings: the table shows each hit's match
(strong, weak, context, vector-only), kind, date, namespace and snippet; --json prints the tool's answer.
An empty QUERY ("") lists the newest records that pass the filters.`,
  operands: { min: 1, max: 1 },
  options: {
    layer: { type: 'string', value: 'L,…', help: 'only these layers: semantic, episodic, procedural' },
    kind: { type: 'string', value: 'K,…', help: 'only these kinds (goals are "goal", plan steps "step")' },
    type: { type: 'string', value: 'T,…', help: 'only these record types: memory, goal, step' },
    tags: { type: 'string', value: 'a,b', help: 'only records with any of these tags' },
    namespace: NAMESPACE_OPTION,
    mode: { type: 'string', value: 'M', help: 'hybrid (default), keyword or vector' },
    since: { type: 'string', value: 'ISO', help: 'only records from this time on' },
    until: { type: 'string', value: 'ISO', help: 'only records before this time' },
    limit: { type: 'string', value: 'N', help: 'at most N hits (default 10, at most 100)' },
    json: JSON_OPTION,
  },
  settings: READ_SETTINGS,
  run: search,
};

export const goalsCommand: Command = {
  name: 'goals',
  summary: 'list goals as list_goals does: status, priority, steps done, id and title',
  usage: 'goals [options]',
  operands: { min: 0, max: 0 },
  options: {
    status: { type: 'string', value: 'S,…', help: 'active (default), achieved, failed, abandoned, or all' },
    namespace: NAMESPACE_OPTION,
    limit: { type: 'string', value: 'N', help: 'at most N goals (default 20, at most 100)' },
    json: JSON_OPTION,
  },
  settings: READ_SETTINGS,
  run: goals,
};

export const statsCommand: Command = {
  name: 'stats',
  summary: 'counts of what is stored, the database size and the embedding model, as memory_stats gives them',
  usage: 'stats [options]',
  operands: { min: 0, max: 0 },
  options: { json: JSON_OPTION },
  settings: READ_SETTINGS,
  run: stats,
};
