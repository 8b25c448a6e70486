/**
 * LoCoMo retrieval evaluation through the MCP tools over stdio, exactly as an
 * agent would use the server: store every conversation turn with `remember`,
 * ask every question with evidence through `search_memory`, and measure
 * Recall@k and hit@10 of the evidence turns, overall and per category.
 *
 *   npm run eval:locomo -- [--mode keyword|vector|hybrid|all] [--k 5,10,20] [--out FILE] [--misses FILE] [--without-context] [--backend sqlite|postgres|pglite] [--datasets DIR | FILE...]
 *
 * Without FILE arguments it evaluates both splits the retrieval work is held
 * to: the dev split (`locomo-dev/*.json`, tuned on) and the validation split
 * (`locomo-validation/*.json`, checked on) of the datasets directory, by
 * default `../shared/datasets` next to the project root, else --datasets DIR;
 * each split on a server and store of its own. The JSON report is then keyed
 * by split (`{ datasets, splits: { dev, validation } }`, each a report as for
 * FILE arguments), and a side-by-side table (for each mode: R@k and hit@10 of
 * each category and overall, dev next to validation, in Markdown) goes to
 * stderr once both are done, after the progress lines, so that stdout stays
 * one JSON document for scripts. --misses then lists the misses of both
 * splits (each line names its conversation).
 * With FILE arguments it evaluates those files together: one report, no table.
 *
 * Prints the JSON report on stdout (and to --out); progress goes to stderr.
 * --misses writes one JSON line per question whose evidence is not all in the
 * top 10: its text, the rank of each evidence turn (0: not returned) and the
 * turns that came first, to see what to work on. --without-context searches
 * again with Pinak's thread scoring off (windows and neighbour spread), for
 * the same modes, reported as "<mode> without context". --backend runs the
 * server on SQLite (default), on a new database of the PostgreSQL server
 * PINAK_DATABASE_URL names (keyword search only without pgvector), or on
 * PGlite with pgvector in this process (see backends.ts).
 * Exit code 1 with a one-line message on bad arguments, unreadable files or a failed run.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { z } from 'zod';
import { buildIfStale, CLI, ROOT } from '../lib/build.js';
import { BACKENDS, openEvalStore, type Backend } from './backends.js';
import { chunks, readConversation, type Conversation, type Question } from './locomo-data.js';
import { HIT_K, percentile, round3, scoreQuestion, summarise, summariseByCategory, type ScoredQuestion } from './locomo-metrics.js';
import { splitTable } from './locomo-table.js';

const BATCH = 100;
const MAX_LIMIT = 100;
const INDEX_WAIT_MS = 120_000;
const REQUESTABLE_MODES = ['keyword', 'vector', 'hybrid', 'all'] as const;
const USAGE = `usage: npm run eval:locomo -- [--mode ${REQUESTABLE_MODES.join('|')}] [--k 5,10,20] [--out FILE] [--misses FILE] [--without-context] [--backend ${BACKENDS.join('|')}] [--datasets DIR | FILE...]`;
/** Where the splits are looked for without --datasets: a sibling of the project. */
const DEFAULT_DATASETS = join(ROOT, '..', 'shared', 'datasets');
/** The splits evaluated without FILE arguments, in report order: name → directory under the datasets directory. */
const SPLITS = { dev: 'locomo-dev', validation: 'locomo-validation' } as const;
type Split = keyof typeof SPLITS;

/** A mistake in the command line or the input files: one line on stderr, exit 1. */
class UsageError extends Error {}

const log = (message: string): void => void process.stderr.write(`[eval:locomo] ${message}\n`);

// ---------------------------------------------------------------- arguments

interface Options {
  mode: (typeof REQUESTABLE_MODES)[number];
  ks: number[];
  out: string | undefined;
  misses: string | undefined;
  withoutContext: boolean;
  backend: Backend;
  /** The conversations to evaluate together; empty: evaluate the splits of `datasets`. */
  files: string[];
  /** The datasets directory holding the splits (only without FILE arguments). */
  datasets: string;
}

function parseKs(text: string): number[] {
  const ks = text.split(',').map((part) => part.trim());
  if (ks.some((k) => !/^\d+$/.test(k) || Number(k) < 1 || Number(k) > MAX_LIMIT)) {
    throw new UsageError(`--k needs comma-separated whole numbers from 1 to ${MAX_LIMIT}, got ${JSON.stringify(text)}`);
  }
  return [...new Set(ks.map(Number))].sort((a, b) => a - b);
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { mode: { type: 'string', default: 'all' }, k: { type: 'string', default: '5,10,20' }, out: { type: 'string' }, misses: { type: 'string' }, 'without-context': { type: 'boolean', default: false }, backend: { type: 'string', default: 'sqlite' }, datasets: { type: 'string' } },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const { mode, k, out, misses } = parsed.values;
  if (!REQUESTABLE_MODES.some((m) => m === mode)) throw new UsageError(`--mode must be one of ${REQUESTABLE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  if (parsed.positionals.length > 0 && parsed.values.datasets !== undefined) throw new UsageError(`give either --datasets DIR (both splits) or LoCoMo FILE arguments, not both; ${USAGE}`);
  const backend = BACKENDS.find((b) => b === parsed.values.backend);
  if (!backend) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(parsed.values.backend)}`);
  for (const [flag, file] of [['--out', out], ['--misses', misses]]) {
    if (file !== undefined && !existsSync(dirname(resolve(file)))) throw new UsageError(`${flag} ${file}: the directory does not exist`);
  }
  return { mode: mode as Options['mode'], ks: parseKs(k), out, misses, withoutContext: parsed.values['without-context'], backend, files: parsed.positionals, datasets: resolve(parsed.values.datasets ?? DEFAULT_DATASETS) };
}

// ---------------------------------------------------------------- input files

interface LoadedConversation extends Conversation {
  file: string;
  namespace: string;
}

function loadConversation(file: string): LoadedConversation {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '-');
  try {
    return { ...readConversation(stem, json), file, namespace: `locomo-${stem}` };
  } catch (error) {
    throw new UsageError(`${file} is not a LoCoMo conversation: ${(error as Error).message}`);
  }
}

/** Each split's conversation files (`*.json`, sorted by name), or a one-line reason why the datasets directory cannot be used. */
function splitFiles(datasets: string): Record<Split, string[]> {
  if (!existsSync(datasets) || !statSync(datasets).isDirectory()) {
    throw new UsageError(`no datasets directory at ${datasets}: give --datasets DIR (holding ${Object.values(SPLITS).join('/ and ')}/) or LoCoMo FILE arguments`);
  }
  const entries = Object.entries(SPLITS).map(([split, name]) => {
    const dir = join(datasets, name);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${datasets} has no ${name}/ directory (the ${split} split)`);
    const files = readdirSync(dir).filter((file) => file.endsWith('.json')).sort().map((file) => join(dir, file));
    if (files.length === 0) throw new UsageError(`${dir} holds no .json conversation files (the ${split} split)`);
    return [split, files] as const;
  });
  return Object.fromEntries(entries) as Record<Split, string[]>;
}

function loadConversations(files: readonly string[]): LoadedConversation[] {
  const conversations = files.map(loadConversation);
  const namespaces = conversations.map((c) => c.namespace);
  const repeated = namespaces.find((ns, i) => namespaces.indexOf(ns) !== i);
  if (repeated) throw new UsageError(`two files map to the same namespace ${repeated}: give each conversation a distinct file name`);
  return conversations;
}

// ---------------------------------------------------------------- server


/** PINAK_* settings of this shell, passed on to the server (the SDK passes only a safe default environment). */
function pinakEnvironment(): Record<string, string> {
  // The database is the backend's choice (backends.ts), never inherited.
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PINAK_') && !e[0].startsWith('PINAK_DATABASE_URL') && e[1] !== undefined),
  );
}

/** Pinak's thread scoring off: what --without-context compares against. */
const NO_CONTEXT = { PINAK_CONTEXT_WINDOW: '0', PINAK_CONTEXT_SHARE: '0', PINAK_CONTEXT_REPLY: '0' };

async function connect(dataDir: string, settings: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--data-dir', dataDir, '--log-level', 'warn'],
    env: { ...getDefaultEnvironment(), ...pinakEnvironment(), ...settings },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'eval-locomo', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

async function callTool<T>(client: Client, name: string, args: Record<string, unknown>, output: z.ZodType<T>): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 500)}`);
  const parsed = output.safeParse(result.structuredContent);
  if (!parsed.success) throw new Error(`${name} returned an unexpected result: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

interface ServerInfo {
  name: string;
  version: string;
  /** The `mode` enum of search_memory's input schema; null when it has no `mode`. */
  searchModes: string[] | null;
  /** Whether memory_stats exists (it reports embedding progress). */
  hasStats: boolean;
}

const ModeProperty = z.object({ enum: z.array(z.string()).optional() });

async function describeServer(client: Client): Promise<ServerInfo> {
  const { tools } = await client.listTools();
  const search = tools.find((t) => t.name === 'search_memory');
  if (!search) throw new Error('the server has no search_memory tool');
  if (!tools.some((t) => t.name === 'remember')) throw new Error('the server has no remember tool');
  const mode = ModeProperty.safeParse(search.inputSchema.properties?.mode);
  const version = client.getServerVersion();
  return {
    name: version?.name ?? 'unknown',
    version: version?.version ?? 'unknown',
    searchModes: mode.success ? (mode.data.enum ?? []) : null,
    hasStats: tools.some((t) => t.name === 'memory_stats'),
  };
}

/** The modes to run (null: send no mode) and, when the request could not be honoured as asked, why. */
function chooseModes(requested: Options['mode'], offered: string[] | null): { modes: Array<string | null>; note?: string } {
  if (offered === null) {
    const ignored = requested === 'all' ? '' : ` (--mode ${requested} was ignored)`;
    return { modes: [null], note: `search_memory has no mode parameter: one run with the server's default ranking, reported as "default"${ignored}` };
  }
  if (requested === 'all') {
    if (offered.length === 0) throw new Error('search_memory has a mode parameter but no list of modes to run');
    return { modes: offered };
  }
  if (!offered.includes(requested)) throw new UsageError(`--mode ${requested}: the server's search_memory offers ${offered.join(', ')}`);
  return { modes: [requested] };
}

// ---------------------------------------------------------------- ingest

const RememberOutput = z.object({ stored: z.array(z.object({ id: z.string() })) });

function turnMemories(conversation: LoadedConversation): Array<{ diaId: string; memory: Record<string, unknown> }> {
  return conversation.sessions.flatMap((session) =>
    session.turns.map((turn, position) => ({
      diaId: turn.diaId,
      memory: {
        content: turn.content,
        layer: 'episodic',
        kind: 'turn',
        namespace: conversation.namespace,
        // One thread per session, turns in order: search scores a turn with its neighbours.
        thread_id: `session-${session.n}`,
        position: position + 1,
        occurred_at: session.occurredAt,
        metadata: { dia_id: turn.diaId, session: session.n, speaker: turn.speaker },
        tags: [turn.speaker.toLowerCase(), `session-${session.n}`],
      },
    })),
  );
}

/** Store every turn in batches; returns dialogue id → memory id. */
async function ingest(client: Client, conversation: LoadedConversation): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const batch of chunks(turnMemories(conversation), BATCH)) {
    const { stored } = await callTool(client, 'remember', { memories: batch.map((b) => b.memory) }, RememberOutput);
    if (stored.length !== batch.length) throw new Error(`remember stored ${stored.length} of ${batch.length} memories`);
    batch.forEach((b, i) => ids.set(b.diaId, stored[i]!.id));
  }
  return ids;
}

const StatsOutput = z.object({
  embedding: z
    .object({ model_id: z.string().nullable(), records: z.number(), embedded: z.number(), index_backlog: z.number() })
    .partial()
    .optional(),
});

/** When the server reports embedding progress, wait until every record is embedded and indexed; returns the model id. */
async function waitForVectors(client: Client): Promise<string | null> {
  const deadline = Date.now() + INDEX_WAIT_MS;
  for (;;) {
    const { embedding } = await callTool(client, 'memory_stats', {}, StatsOutput);
    if (!embedding?.model_id) return null;
    const done = (embedding.embedded ?? 0) >= (embedding.records ?? 0) && (embedding.index_backlog ?? 0) === 0;
    if (done) return embedding.model_id;
    if (Date.now() > deadline) throw new Error(`vectors still not indexed after ${INDEX_WAIT_MS / 1000} s: ${JSON.stringify(embedding)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------- search

const SearchOutput = z.object({ hits: z.array(z.object({ id: z.string() })), mode: z.string().optional(), note: z.string().optional() });

interface ModeReport {
  overall: Record<string, number>;
  by_category: Record<string, Record<string, number>>;
  search_ms: { p50: number; p95: number };
  /** How the server says it ranked the hits (its `mode` output), counted over the questions. */
  served_as: Record<string, number>;
  notes?: string[];
}

/** Append a question whose evidence is not all in the top HIT_K to the --misses file. */
function recordMiss(file: string, conversation: LoadedConversation & { ids: Map<string, string> }, mode: string | null, q: Question, hitIds: string[]): void {
  const ranks = q.evidence.map((diaId) => hitIds.indexOf(conversation.ids.get(diaId)!) + 1);
  if (ranks.every((rank) => rank > 0 && rank <= HIT_K)) return;
  const turns = new Map(conversation.sessions.flatMap((s) => s.turns.map((t) => [conversation.ids.get(t.diaId)!, `${t.diaId} ${t.content}`] as const)));
  const evidence = q.evidence.map((diaId, i) => ({ rank: ranks[i], turn: turns.get(conversation.ids.get(diaId)!) }));
  const line = { mode: mode ?? 'default', conversation: conversation.namespace, category: q.category, question: q.question, evidence, first: hitIds.slice(0, 3).map((id) => turns.get(id)) };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

async function evaluateMode(
  client: Client,
  conversations: ReadonlyArray<LoadedConversation & { ids: Map<string, string> }>,
  mode: string | null,
  ks: readonly number[],
  misses?: string,
): Promise<ModeReport> {
  const limit = Math.max(HIT_K, ...ks);
  const scored: ScoredQuestion[] = [];
  const latencies: number[] = [];
  const servedAs: Record<string, number> = {};
  const notes = new Set<string>();
  for (const conversation of conversations) {
    for (const q of conversation.questions.filter((item) => item.evidence.length > 0)) {
      const args = { query: q.question, namespace: conversation.namespace, limit, ...(mode === null ? {} : { mode }) };
      const started = performance.now();
      const result = await callTool(client, 'search_memory', args, SearchOutput);
      latencies.push(performance.now() - started);
      const served = result.mode ?? 'unreported';
      servedAs[served] = (servedAs[served] ?? 0) + 1;
      if (result.note && result.hits.length > 0) notes.add(result.note);
      const evidence = q.evidence.map((diaId) => conversation.ids.get(diaId)!);
      scored.push(scoreQuestion(q.category, evidence, result.hits.map((h) => h.id), ks));
      if (misses) recordMiss(misses, conversation, mode, q, result.hits.map((h) => h.id));
    }
  }
  return {
    overall: summarise(scored, ks),
    by_category: summariseByCategory(scored, ks),
    search_ms: { p50: round3(percentile(latencies, 50)), p95: round3(percentile(latencies, 95)) },
    served_as: servedAs,
    ...(notes.size > 0 ? { notes: [...notes] } : {}),
  };
}

// ---------------------------------------------------------------- report

function describeConversation(c: LoadedConversation) {
  const dropped = c.questions.flatMap((q) => q.dropped);
  return {
    file: c.file,
    namespace: c.namespace,
    sessions: c.sessions.length,
    turns: c.sessions.reduce((n, s) => n + s.turns.length, 0),
    questions: c.questions.length,
    questions_evaluated: c.questions.filter((q) => q.evidence.length > 0).length,
    questions_skipped_no_evidence: c.questions.filter((q) => q.evidence.length === 0).length,
    evidence_ids_dropped: dropped.length,
    ...(dropped.length > 0 ? { dropped_ids: dropped } : {}),
  };
}

/** Evaluate these files together on one server and store: their report. */
async function run(options: Options, files: readonly string[]): Promise<Record<string, unknown> & { modes: Record<string, ModeReport> }> {
  const conversations = loadConversations(files);
  const dataDir = mkdtempSync(join(tmpdir(), 'pinak-locomo-'));
  const store = await openEvalStore(options.backend, process.env.PINAK_DATABASE_URL);
  let client: Client | undefined;
  try {
    client = await connect(dataDir, store.env);
    const server = await describeServer(client);
    const plan = store.keywordOnly ? { modes: ['keyword'], note: `${store.note}: keyword mode only` } : chooseModes(options.mode, server.searchModes);
    log(`server ${server.name} ${server.version}; modes: ${plan.modes.map((m) => m ?? 'default').join(', ')}`);

    const ingestStarted = performance.now();
    const ingested = [];
    for (const conversation of conversations) {
      log(`ingesting ${conversation.file} into ${conversation.namespace}`);
      ingested.push({ ...conversation, ids: await ingest(client, conversation) });
    }
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    const waitStarted = performance.now();
    const embeddingModel = server.hasStats ? await waitForVectors(client) : null;
    const indexWaitSeconds = (performance.now() - waitStarted) / 1000;

    const modes: Record<string, ModeReport> = {};
    for (const mode of plan.modes) {
      log(`searching, mode ${mode ?? 'default'}`);
      modes[mode ?? 'default'] = await evaluateMode(client, ingested, mode, options.ks, options.misses);
    }
    if (options.withoutContext) {
      // The same stored turns, searched by a server started with thread scoring off.
      await client.close();
      client = await connect(dataDir, { ...store.env, ...NO_CONTEXT });
      if (server.hasStats) await waitForVectors(client);
      for (const mode of plan.modes) {
        log(`searching, mode ${mode ?? 'default'}, without context scoring`);
        modes[`${mode ?? 'default'} without context`] = await evaluateMode(client, ingested, mode, options.ks);
      }
    }
    const report = {
      server: { name: server.name, version: server.version, search_modes: server.searchModes, embedding_model: embeddingModel },
      backend: store.note,
      mode_parameter: server.searchModes !== null,
      ...(plan.note ? { note: plan.note } : {}),
      k: options.ks,
      search_limit: Math.max(HIT_K, ...options.ks),
      conversations: conversations.map(describeConversation),
      questions: Object.values(modes)[0]?.overall.questions ?? 0,
      timing: { ingest_seconds: round3(ingestSeconds), index_wait_seconds: round3(indexWaitSeconds) },
      modes,
    };
    return report;
  } finally {
    await client?.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Both splits, one after the other (each on a server and store of its own): the report keyed by split, and the table on stderr. */
async function runSplits(options: Options): Promise<Record<string, unknown>> {
  const files = splitFiles(options.datasets);
  // Read every file before the first run, so that a bad one fails at once.
  for (const split of Object.keys(SPLITS) as Split[]) loadConversations(files[split]);
  const splits: Partial<Record<Split, Awaited<ReturnType<typeof run>>>> = {};
  for (const split of Object.keys(SPLITS) as Split[]) {
    log(`split ${split}: ${files[split].map((file) => basename(file)).join(', ')}`);
    splits[split] = await run(options, files[split]);
  }
  const complete = splits as Record<Split, Awaited<ReturnType<typeof run>>>;
  process.stderr.write(`\n${splitTable(complete, [...options.ks.map((k) => `R@${k}`), `hit@${HIT_K}`])}\n`);
  return { datasets: options.datasets, splits: complete };
}

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  if (options.files.length > 0) loadConversations(options.files);
  buildIfStale();
  if (options.misses) writeFileSync(options.misses, '');
  const report = options.files.length > 0 ? await run(options, options.files) : await runSplits(options);
  const json = JSON.stringify(report, null, 2);
  process.stdout.write(`${json}\n`);
  if (options.out) {
    writeFileSync(options.out, `${json}\n`);
    log(`wrote ${options.out}`);
  }
}

main(process.argv.slice(2)).then(
  () => (process.exitCode = 0),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`eval:locomo: ${message.split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
