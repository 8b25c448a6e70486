/**
 * End-to-end check of a build: start the server over stdio in a temporary
 * data directory, exercise every layer, goals and outcomes, search, restart,
 * and check nothing was lost. Prints a pass/fail report; exit 1 on any failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { buildIfStale, CLI } from './lib/build.js';


type Result = Record<string, any>;
const checks: Array<{ name: string; ok: boolean; detail?: string }> = [];

function check(name: string, ok: boolean, detail?: string): void {
  checks.push({ name, ok, ...(detail === undefined ? {} : { detail }) });
}

async function connect(dataDir: string): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, '--data-dir', dataDir, '--log-level', 'warn'], stderr: 'inherit' });
  const client = new Client({ name: 'verify-service-core', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

let calls = 0;

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  calls += 1;
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Result;
}

const hitIds = (result: Result): string[] => result.hits.map((h: { id: string }) => h.id);

async function main(): Promise<number> {
  buildIfStale();
  const dataDir = mkdtempSync(join(tmpdir(), 'pinak-verify-'));
  try {
    let client = await connect(dataDir);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    check('lists the nine tools', tools.length === 9, tools.join(', '));

    const { stored } = await call(client, 'remember', {
      memories: [
        { content: 'Priya prefers answers with code samples in TypeScript', layer: 'semantic', kind: 'preference' },
        { content: 'Priya and the agent paired on the invoice parser on Monday', layer: 'episodic', kind: 'event', occurred_at: '2025-03-03T10:00:00Z' },
        { content: 'To regenerate fixtures run the snapshot script with --update', layer: 'procedural', kind: 'howto' },
      ],
    });
    check('stores memories of all three layers', stored.length === 3);

    const { goal } = await call(client, 'remember_goal', {
      title: 'Speed up the invoice parser',
      plan: [{ title: 'Profile the parser' }, { title: 'Replace the regex tokenizer' }],
    });
    check('creates a goal with a two-step plan', goal.steps.length === 2);

    const outcome = await call(client, 'record_outcome', {
      goal_id: goal.id,
      step_id: goal.steps[0].id,
      result: 'failure',
      summary: 'The profiler could not attach to the worker threads',
      lessons: ['Profile invoice parsing in the main thread with a fixed sample file'],
    });
    check('records an outcome with a lesson', outcome.lesson_memory_ids.length === 1 && outcome.goal.steps[0].status === 'failed');

    const expectations: Array<[string, Record<string, unknown>, string]> = [
      ['finds the preference', { query: 'how does Priya like answers' }, stored[0].id],
      ['finds the event', { query: 'paired invoice parser', layers: ['episodic'], kinds: ['event'] }, stored[1].id],
      ['finds the how-to', { query: 'regenerate fixtures' }, stored[2].id],
      ['finds the goal', { query: 'invoice parser speed', types: ['goal'] }, goal.id],
      ['finds the lesson for a similar goal', { query: 'make invoice parsing faster', kinds: ['lesson'] }, outcome.lesson_memory_ids[0]],
    ];
    for (const [name, args, id] of expectations) check(name, hitIds(await call(client, 'search_memory', args)).includes(id));
    const before = await call(client, 'memory_stats', {});
    await client.close();

    client = await connect(dataDir);
    const callsBefore = calls;
    const after = await call(client, 'memory_stats', {});
    check('keeps every memory across a restart', after.memories_total === before.memories_total && after.memories_total === 5, `${before.memories_total} → ${after.memories_total}`);
    const kept = await call(client, 'get_goal', { goal_id: goal.id });
    check('keeps the goal, plan and outcome across a restart', kept.goal.steps.length === 2 && kept.goal.outcomes.length === 1);
    for (const [name, args, id] of expectations) check(`${name} after the restart`, hitIds(await call(client, 'search_memory', args)).includes(id));
    check('audited every call', after.audit_rows === callsBefore, `${after.audit_rows} rows for ${callsBefore} calls`);
    await client.close();
  } catch (error) {
    check('runs without errors', false, (error as Error).message);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  const failed = checks.filter((c) => !c.ok);
  for (const c of checks) process.stdout.write(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.detail ? ` (${c.detail})` : ''}\n`);
  process.stdout.write(`\n${checks.length - failed.length} passed, ${failed.length} failed\n`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
