import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer();
});
afterEach(async () => {
  await linked.close();
});

async function createGoal(args: Record<string, unknown>) {
  return (await callOk(linked.client, 'remember_goal', args)).goal;
}

describe('remember_goal', () => {
  it('creates a goal with an ordered plan', async () => {
    const result = await callOk(linked.client, 'remember_goal', {
      title: 'Ship the billing export',
      description: 'Customers need CSV exports of invoices',
      success_criteria: ['Exports finish in under 5 s'],
      priority: 'high',
      tags: ['billing'],
      plan: [{ title: 'Write the CSV writer' }, { title: 'Add the endpoint', detail: 'GET /exports' }],
    });
    expect(result.created).toBe(true);
    expect(result.possible_duplicates).toEqual([]);
    expect(result.goal).toMatchObject({ status: 'active', priority: 'high', plan_version: 1, steps_total: 2, steps_done: 0 });
    expect(result.goal.steps.map((s: { position: number; title: string; status: string }) => [s.position, s.title, s.status])).toEqual([
      [1, 'Write the CSV writer', 'pending'],
      [2, 'Add the endpoint', 'pending'],
    ]);
  });

  it('reports active look-alike goals in the same namespace only', async () => {
    const first = await createGoal({ title: 'Ship the billing export feature' });
    await createGoal({ title: 'Ship the billing export feature', namespace: 'elsewhere' });
    const second = await callOk(linked.client, 'remember_goal', { title: 'Ship billing exports' });
    expect(second.possible_duplicates.map((d: { id: string }) => d.id)).toEqual([first.id]);
    await callOk(linked.client, 'remember_goal', { goal_id: first.id, status: 'abandoned' });
    const third = await callOk(linked.client, 'remember_goal', { title: 'Ship billing exports' });
    expect(third.possible_duplicates.map((d: { id: string }) => d.id)).toEqual([second.goal.id]);
  });

  it('updates step statuses and keeps plan revisions in history', async () => {
    const goal = await createGoal({ title: 'Migrate to Postgres', plan: [{ title: 'Dump data' }, { title: 'Load data' }] });
    const [dump] = goal.steps;
    const afterStep = (await callOk(linked.client, 'remember_goal', {
      goal_id: goal.id,
      step_updates: [{ step_id: dump.id, status: 'done', result_note: 'dumped 3 GB' }],
    })).goal;
    expect(afterStep.steps[0]).toMatchObject({ status: 'done', result_note: 'dumped 3 GB' });
    expect(afterStep.steps_done).toBe(1);

    const revised = (await callOk(linked.client, 'remember_goal', {
      goal_id: goal.id,
      plan: [{ title: 'Use logical replication' }],
      plan_reason: 'downtime too long',
    })).goal;
    expect(revised.plan_version).toBe(2);
    expect(revised.steps.map((s: { title: string }) => s.title)).toEqual(['Use logical replication']);
    expect(revised.plan_history).toHaveLength(1);
    expect(revised.plan_history[0].steps.map((s: { status: string }) => s.status)).toEqual(['done', 'pending']);
    // Steps of the replaced plan no longer come back from search.
    const hits = (await callOk(linked.client, 'search_memory', { query: 'dump load data', types: ['step'] })).hits;
    expect(hits).toEqual([]);
    // And cannot be updated any more.
    expect(await callError(linked.client, 'remember_goal', { goal_id: goal.id, step_updates: [{ step_id: dump.id, status: 'failed' }] })).toMatch(
      /not in the current plan/,
    );
  });

  it('refuses contradictory or misplaced fields with a clear message', async () => {
    const goal = await createGoal({ title: 'Write docs' });
    expect(await callError(linked.client, 'remember_goal', { description: 'no title' })).toMatch(/title is required/);
    expect(await callError(linked.client, 'remember_goal', { title: 'x', status: 'achieved' })).toMatch(/starts active/);
    expect(await callError(linked.client, 'remember_goal', { goal_id: goal.id, namespace: 'other' })).toMatch(/cannot move/);
    expect(await callError(linked.client, 'remember_goal', { goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', status: 'failed' })).toMatch(/not found/);
    expect(await callError(linked.client, 'remember_goal', { title: 'child', parent_goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' })).toMatch(/parent goal/);
  });
});

describe('list_goals and get_goal', () => {
  it('lists by status and namespace, most important first, and links sub-goals', async () => {
    const low = await createGoal({ title: 'Tidy the wiki', priority: 'low' });
    const critical = await createGoal({ title: 'Fix the outage', priority: 'critical' });
    const child = await createGoal({ title: 'Find the root cause', parent_goal_id: critical.id });
    await createGoal({ title: 'Other project goal', namespace: 'other' });
    await callOk(linked.client, 'remember_goal', { goal_id: low.id, status: 'achieved' });

    const active = (await callOk(linked.client, 'list_goals', {})).goals.map((g: { id: string }) => g.id);
    expect(active).toEqual([critical.id, child.id]);
    const achieved = (await callOk(linked.client, 'list_goals', { statuses: ['achieved'] })).goals.map((g: { id: string }) => g.id);
    expect(achieved).toEqual([low.id]);
    const children = (await callOk(linked.client, 'list_goals', { parent_goal_id: critical.id })).goals;
    expect(children.map((g: { id: string }) => g.id)).toEqual([child.id]);
    expect((await callOk(linked.client, 'list_goals', { namespace: '*' })).goals).toHaveLength(3);

    const fetched = (await callOk(linked.client, 'get_goal', { goal_id: child.id })).goal;
    expect(fetched.parent_goal_id).toBe(critical.id);
  });
});

describe('record_outcome', () => {
  it('moves a step to done, stores summary and lessons as linked memories', async () => {
    const goal = await createGoal({ title: 'Speed up the CSV export', tags: ['billing'], plan: [{ title: 'Profile' }, { title: 'Stream rows' }] });
    const result = await callOk(linked.client, 'record_outcome', {
      goal_id: goal.id,
      step_id: goal.steps[0].id,
      result: 'success',
      summary: 'Profiling showed 90% of the time in JSON serialisation',
      lessons: ['Profile before optimising the export', 'Serialise rows lazily'],
      metrics: { seconds_before: 40 },
    });
    expect(result.goal.steps[0].status).toBe('done');
    expect(result.goal.status).toBe('active');
    expect(result.next_step.id).toBe(goal.steps[1].id);
    expect(result.lesson_memory_ids).toHaveLength(2);

    const { memories } = await callOk(linked.client, 'get_memory', { ids: [result.summary_memory_id, ...result.lesson_memory_ids] });
    expect(memories.map((m: { layer: string; kind: string; goal_id: string }) => [m.layer, m.kind, m.goal_id])).toEqual([
      ['episodic', 'outcome', goal.id],
      ['procedural', 'lesson', goal.id],
      ['procedural', 'lesson', goal.id],
    ]);
    expect(memories[0].tags).toEqual(['billing', 'outcome:success']);
    expect(memories[0].metadata).toMatchObject({ outcome_id: result.outcome_id, result: 'success', step_id: goal.steps[0].id });

    const fetched = (await callOk(linked.client, 'get_goal', { goal_id: goal.id })).goal;
    expect(fetched.outcomes).toHaveLength(1);
    expect(fetched.outcomes_total).toBe(1);
    expect(fetched.outcomes[0]).toMatchObject({ result: 'success', metrics: { seconds_before: 40 } });
  });

  it('marks the goal failed, and a later search for a similar goal surfaces the lesson', async () => {
    const goal = await createGoal({ title: 'Deploy the payments service to Kubernetes' });
    const result = await callOk(linked.client, 'record_outcome', {
      goal_id: goal.id,
      result: 'failure',
      summary: 'Pods crashed on start',
      lessons: ['Set memory limits above 512 MiB for the JVM'],
    });
    expect(result.goal.status).toBe('failed');
    const hits = (await callOk(linked.client, 'search_memory', { query: 'deploy payments to kubernetes', kinds: ['lesson'] })).hits;
    expect(hits.map((h: { id: string }) => h.id)).toEqual(result.lesson_memory_ids);
    expect(hits[0].snippet).toContain('memory limits');
  });

  it('get_goal shows only the newest 20 outcomes, and how many there are', async () => {
    const goal = await createGoal({ title: 'Keep retrying the flaky job' });
    for (let i = 1; i <= 23; i++) {
      await callOk(linked.client, 'record_outcome', { goal_id: goal.id, result: 'partial', summary: `attempt ${i}` });
    }
    const fetched = (await callOk(linked.client, 'get_goal', { goal_id: goal.id })).goal;
    expect(fetched.outcomes_total).toBe(23);
    expect(fetched.outcomes.map((o: { summary: string }) => o.summary)).toEqual(Array.from({ length: 20 }, (_, i) => `attempt ${i + 4}`));
  });

  it('leaves statuses alone when update_status is false, and refuses unknown steps', async () => {
    const goal = await createGoal({ title: 'Evaluate vendors', plan: [{ title: 'Shortlist' }] });
    const partial = await callOk(linked.client, 'record_outcome', { goal_id: goal.id, result: 'failure', summary: 'no answer yet', update_status: false });
    expect(partial.goal.status).toBe('active');
    expect(await callError(linked.client, 'record_outcome', { goal_id: goal.id, step_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', result: 'success', summary: 'x' })).toMatch(
      /not in the current plan/,
    );
    expect(await callError(linked.client, 'record_outcome', { goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', result: 'success', summary: 'x' })).toMatch(/not found/);
  });
});
