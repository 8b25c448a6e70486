/**
 * Resources, prompts and completions at a given store size: the built server
 * over stdio on a temporary data directory, seeded with --memories memories
 * (batches of 100) and --goals goals with a plan and an outcome each, then
 * each request below timed --calls times, one after another.
 *
 *   npm run bench:surface -- [--memories 10000] [--goals 200] [--calls 100]
 *
 * Prints JSON: p50/p95/p99 per request; and the size of the answers a model
 * reads (characters), which the bodies' budgets bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildIfStale } from '../lib/build.js';
import { call, log, startServer } from './servers.js';
import { describeMachine, summarize, timed } from './stats.js';

const { values } = parseArgs({ options: { memories: { type: 'string', default: '10000' }, goals: { type: 'string', default: '200' }, calls: { type: 'string', default: '100' } } });
const MEMORIES = Number(values.memories);
const GOALS = Number(values.goals);
const CALLS = Number(values.calls);

const WORDS = ['billing', 'export', 'deploy', 'staging', 'invoice', 'report', 'latency', 'cache', 'schema', 'migration', 'alert', 'dashboard', 'token', 'retry', 'queue'];
const sentence = (i: number): string => Array.from({ length: 12 }, (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length]).join(' ') + ` note ${i}`;

buildIfStale();
const dir = mkdtempSync(join(tmpdir(), 'pinak-bench-surface-'));
const server = await startServer(dir);
try {
  log(`seeding ${MEMORIES} memories and ${GOALS} goals`);
  const memoryIds: string[] = [];
  for (let i = 0; i < MEMORIES; i += 100) {
    const batch = Array.from({ length: Math.min(100, MEMORIES - i) }, (_, j) => ({ content: sentence(i + j) }));
    memoryIds.push(...((await call(server.client, 'remember', { memories: batch })).stored as Array<{ id: string }>).map((m) => m.id));
  }
  const goalIds: string[] = [];
  for (let i = 0; i < GOALS; i++) {
    const goal = await call(server.client, 'remember_goal', { title: `Goal ${i}: ${sentence(i).slice(0, 60)}`, plan: [{ title: 'first step' }, { title: 'second step' }] });
    goalIds.push(goal.goal.id as string);
    await call(server.client, 'record_outcome', { goal_id: goal.goal.id, result: 'partial', summary: sentence(i + 1), lessons: [sentence(i + 2)], update_status: false });
  }
  const { client } = server;
  const requests: Record<string, (i: number) => Promise<number>> = {
    'resources/list (first page)': async () => JSON.stringify(await client.listResources()).length,
    'resources/list (every page)': async () => {
      let cursor: string | undefined;
      let chars = 0;
      do {
        const page = await client.listResources(cursor === undefined ? {} : { cursor });
        chars += JSON.stringify(page).length;
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return chars;
    },
    'resources/read memory': async (i) => JSON.stringify(await client.readResource({ uri: `pinak://memory/${memoryIds[(i * 97) % memoryIds.length]}` })).length,
    'resources/read goal': async (i) => JSON.stringify(await client.readResource({ uri: `pinak://goal/${goalIds[(i * 31) % goalIds.length]}` })).length,
    'resources/read goals/active': async () => JSON.stringify(await client.readResource({ uri: 'pinak://goals/active' })).length,
    'resources/read recent': async () => JSON.stringify(await client.readResource({ uri: 'pinak://recent' })).length,
    'prompts/get recall': async (i) => JSON.stringify(await client.getPrompt({ name: 'recall', arguments: { task: sentence(i).slice(0, 50) } })).length,
    'prompts/get plan_goal': async (i) => JSON.stringify(await client.getPrompt({ name: 'plan_goal', arguments: { title: sentence(i + 3).slice(0, 50) } })).length,
    'completion goal_id': async (i) => JSON.stringify(await client.complete({ ref: { type: 'ref/prompt', name: 'record_outcome' }, argument: { name: 'goal_id', value: `goal ${i % 10}` } })).length,
  };
  const results: Record<string, unknown> = {};
  for (const [name, request] of Object.entries(requests)) {
    log(name);
    const ms: number[] = [];
    let largest = 0;
    for (let i = 0; i < CALLS; i++) {
      const { ms: took, value } = await timed(() => request(i));
      ms.push(took);
      largest = Math.max(largest, value);
    }
    results[name] = { ...summarize(ms), largest_answer_chars: largest };
  }
  process.stdout.write(`${JSON.stringify({ bench: 'surface', machine: describeMachine(), memories: MEMORIES, goals: GOALS, calls: CALLS, results }, null, 2)}\n`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
