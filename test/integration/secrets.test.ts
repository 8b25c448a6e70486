import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seeded } from '../../scripts/bench/data.js';
import { Fake } from '../../scripts/eval/firewall-corpus.js';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer({ embedder: true, secretsByNamespace: [['shared', 'refuse']] });
});
afterEach(async () => {
  await linked.close();
});

describe('secrets in writes, on either store', () => {
  it('every write tool stores marks instead, finds the record by its other words, and a keyed retry gets the same answer', async () => {
    const fake = new Fake(seeded(44));
    const [github, openai, card] = [fake.github(), fake.openaiProject(), fake.card()];

    const args = { memories: [{ content: `ci token ${github}` }, { content: 'nothing secret here' }], idempotency_key: 'secret-batch' };
    const stored = await callOk(linked.client, 'remember', args);
    expect(stored.redacted).toEqual([{ field: 'memories[0].content', kinds: ['github-token'] }]);
    expect(await callOk(linked.client, 'remember', args)).toEqual(stored);
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'ci token' });
    expect(hits[0].snippet).toBe('ci token [redacted: github-token]');

    const goal = await callOk(linked.client, 'remember_goal', { title: 'Pay the hosting bill', plan: [{ title: 'pay', detail: `use card ${card}` }], metadata: { api_key: openai } });
    expect(goal.redacted).toEqual([
      { field: 'plan[0].detail', kinds: ['card-number'] },
      { field: 'metadata.api_key', kinds: ['openai-key'] },
    ]);
    expect(goal.goal.steps[0].detail).toBe('use card [redacted: card-number]');
    const updated = await callOk(linked.client, 'remember_goal', { goal_id: goal.goal.id, step_updates: [{ step_id: goal.goal.steps[0].id, status: 'done', result_note: `paid with ${card}` }] });
    expect(updated.redacted).toEqual([{ field: 'step_updates[0].result_note', kinds: ['card-number'] }]);

    const outcome = await callOk(linked.client, 'record_outcome', { goal_id: goal.goal.id, result: 'success', summary: `Paid; receipt mailed, key ${openai} rotated`, metrics: { note: `card ${card}` } });
    expect(outcome.redacted).toEqual([
      { field: 'summary', kinds: ['openai-key'] },
      { field: 'metrics.note', kinds: ['card-number'] },
    ]);
    const { memories } = await callOk(linked.client, 'get_memory', { ids: [outcome.summary_memory_id] });
    expect(memories[0].content).toBe('Paid; receipt mailed, key [redacted: openai-key] rotated');
    expect(JSON.stringify(await callOk(linked.client, 'get_goal', { goal_id: goal.goal.id }))).not.toMatch(new RegExp(`${github}|${openai}|${card}`));
  });

  it('a namespace that refuses secrets refuses every write tool, and nothing is stored', async () => {
    const token = new Fake(seeded(45)).gitlab();
    expect(await callError(linked.client, 'remember', { content: `token ${token}`, namespace: 'shared' })).toMatch(/content holds what looks like a secret \(gitlab-token\)/);
    expect(await callError(linked.client, 'remember_goal', { title: 'Deploy', description: `with ${token}`, namespace: 'shared' })).toMatch(/description holds what looks like a secret/);
    const goal = await callOk(linked.client, 'remember_goal', { title: 'Deploy', namespace: 'shared' });
    expect(await callError(linked.client, 'record_outcome', { goal_id: goal.goal.id, result: 'failure', summary: 'failed', lessons: [`do not use ${token}`] })).toMatch(/lessons\[0\] holds what looks like a secret/);
    expect((await callOk(linked.client, 'memory_stats')).memories_total).toBe(0);
  });
});
