/**
 * remember_goal (creating a goal, which brings the experience of past goals)
 * next to search_memory for the same words, on a store of --goals past goals,
 * each with a plan, an outcome (success, failure or partial in turn) and two
 * lessons: the built server over stdio on a temporary data directory with the
 * bundled model, each call timed --calls times, one after another.
 *
 *   npm run bench:goals -- [--goals 2000] [--calls 100]
 *
 * Prints JSON: p50/p95/p99 of each call, and how many past goals and lessons
 * the answers carried (0 before goals brought experience).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildIfStale } from '../lib/build.js';
import { call, log, startServer, waitForIndex } from './servers.js';
import { describeMachine, summarize, timed } from './stats.js';

const { values } = parseArgs({ options: { goals: { type: 'string', default: '2000' }, calls: { type: 'string', default: '100' } } });
const GOALS = Number(values.goals);
const CALLS = Number(values.calls);

const SUBJECTS = ['billing database', 'search index', 'release pipeline', 'customer export', 'auth service', 'metrics dashboard', 'mobile build', 'payment gateway', 'email queue', 'cache layer'];
const VERBS = ['Migrate', 'Upgrade', 'Speed up', 'Harden', 'Split', 'Monitor', 'Document', 'Test'];
const DETAILS = ['with no downtime', 'before the audit', 'for the new region', 'on the staging cluster', 'under load', 'for the holiday peak'];
const RESULTS = ['success', 'failure', 'partial'] as const;
const title = (i: number): string => `${VERBS[i % VERBS.length]} the ${SUBJECTS[(i * 3) % SUBJECTS.length]} ${DETAILS[(i * 7) % DETAILS.length]} (${i})`;

buildIfStale();
const dir = mkdtempSync(join(tmpdir(), 'pinak-bench-goals-'));
const server = await startServer(dir);
try {
  log(`seeding ${GOALS} goals with an outcome and two lessons each`);
  for (let i = 0; i < GOALS; i++) {
    const goal = await call(server.client, 'remember_goal', { title: title(i), description: `Goal number ${i}.`, plan: [{ title: 'prepare' }, { title: 'run it' }] });
    const result = RESULTS[i % RESULTS.length]!;
    await call(server.client, 'record_outcome', {
      goal_id: goal.goal.id,
      result,
      summary: `${result === 'success' ? 'It worked' : 'It went wrong'} for the ${SUBJECTS[(i * 3) % SUBJECTS.length]} at try ${i}.`,
      lessons: [`Check the ${SUBJECTS[(i * 3) % SUBJECTS.length]} backups first (${i}).`, `Run ${DETAILS[(i * 7) % DETAILS.length]} in small batches (${i}).`],
    });
  }
  await waitForIndex(server.client);
  const { client } = server;
  const requests: Record<string, (i: number) => Promise<{ goals: number; lessons: number }>> = {
    'search_memory (the new goal\'s title)': async (i) => {
      const r = await call(client, 'search_memory', { query: title(GOALS + i) });
      return { goals: 0, lessons: (r.hits as unknown[]).length };
    },
    'search_memory (as the experience searches: goals, steps, outcomes, lessons, 20 hits)': async (i) => {
      const r = await call(client, 'search_memory', { query: `${title(GOALS + i)} Goal number ${GOALS + i}.`, kinds: ['goal', 'step', 'lesson', 'outcome'], limit: 20, snippet_chars: 40 });
      return { goals: 0, lessons: (r.hits as unknown[]).length };
    },
    'remember_goal (create)': async (i) => {
      const r = await call(client, 'remember_goal', { title: title(GOALS + i), description: `Goal number ${GOALS + i}.` });
      const experience = (r.experience ?? []) as Array<{ lessons: unknown[] }>;
      return { goals: experience.length, lessons: experience.reduce((n, g) => n + g.lessons.length, 0) };
    },
  };
  const results: Record<string, unknown> = {};
  for (const [name, request] of Object.entries(requests)) {
    log(name);
    const ms: number[] = [];
    let goals = 0;
    let lessons = 0;
    for (let i = 0; i < CALLS; i++) {
      const { ms: took, value } = await timed(() => request(i));
      ms.push(took);
      goals += value.goals;
      lessons += value.lessons;
    }
    results[name] = { ...summarize(ms), mean_past_goals: goals / CALLS, mean_lessons: lessons / CALLS };
  }
  process.stdout.write(`${JSON.stringify({ bench: 'goal-experience', machine: describeMachine(), goals: GOALS, calls: CALLS, results }, null, 2)}\n`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
