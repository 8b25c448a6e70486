import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

// What a tool's description and annotations promise, its answers keep: the text a model reads carries
// what the next call needs, an idempotent tool can be called twice, a finished goal has no next step.

let linked: Linked;
let client: Client;
beforeEach(async () => {
  linked = await linkedServer();
  client = linked.client;
});
afterEach(async () => linked.close());

/** The text block a model reads. */
const textOf = (result: Awaited<ReturnType<Client['callTool']>>): string => (result.content as Array<{ text: string }>).map((c) => c.text).join('\n');

describe('remember_goal', () => {
  it('lists every step with its id in its text, so a step can be updated without get_goal', async () => {
    const created = await client.callTool({ name: 'remember_goal', arguments: { title: 'Fix the login page', plan: [{ title: 'Reproduce the bug' }, { title: 'Patch the cookie flags' }] } });
    const text = textOf(created);
    const steps = (created.structuredContent as { goal: { steps: Array<{ id: string; title: string }> } }).goal.steps;
    for (const step of steps) expect(text).toContain(`${step.title} (${step.id})`);

    // The id as a model reads it from the text is all the update needs.
    const stepId = /Reproduce the bug \((\w+)\)/.exec(text)?.[1];
    const goalId = /goal (\w+) "Fix the login page"/.exec(text)?.[1];
    const updated = await client.callTool({ name: 'remember_goal', arguments: { goal_id: goalId, step_updates: [{ step_id: stepId, status: 'done' }] } });
    expect(textOf(updated)).toMatch(/^updated goal .*1\/2 steps done\n {2}1\. \[done\] Reproduce the bug \(\w+\)\n {2}2\. \[pending\] Patch the cookie flags \(\w+\)$/);
  });

  it('with if_duplicate "return_existing", returns an active look-alike instead of creating a second goal', async () => {
    const first = (await callOk(client, 'remember_goal', { title: 'Ship the billing export feature', plan: [{ title: 'Write the CSV writer' }] })).goal;
    const again = await client.callTool({ name: 'remember_goal', arguments: { title: 'Ship billing exports', if_duplicate: 'return_existing' } });
    const result = again.structuredContent as Record<string, any>;
    expect([result.created, result.existing, result.goal.id]).toEqual([false, true, first.id]);
    expect(result.possible_duplicates.map((d: { id: string }) => d.id)).toEqual([first.id]);
    expect(textOf(again)).toMatch(new RegExp(`^returned existing goal ${first.id} "Ship the billing export feature" \\[active\\] \\(similarity [\\d.]+\\); nothing was created`));
    expect(textOf(again)).toContain(`Write the CSV writer (${first.steps[0].id})`);
    expect((await callOk(client, 'list_goals', {})).goals.map((g: { id: string }) => g.id)).toEqual([first.id]);

    // Without a look-alike it creates; "create" (the default) creates and lists the look-alike.
    const other = await callOk(client, 'remember_goal', { title: 'Rotate the signing keys', if_duplicate: 'return_existing' });
    expect([other.created, other.existing]).toEqual([true, false]);
    const duplicate = await callOk(client, 'remember_goal', { title: 'Ship billing exports', if_duplicate: 'create' });
    expect([duplicate.created, duplicate.possible_duplicates.map((d: { id: string }) => d.id)]).toEqual([true, [first.id]]);
    expect((await callOk(client, 'list_goals', {})).goals).toHaveLength(3);
  });

  it('refuses if_duplicate on an update', async () => {
    const goal = (await callOk(client, 'remember_goal', { title: 'Ship the billing export' })).goal;
    expect(await callError(client, 'remember_goal', { goal_id: goal.id, status: 'achieved', if_duplicate: 'return_existing' })).toMatch(/if_duplicate applies only when creating a goal/);
  });
});

describe('forget', () => {
  it('is idempotent, as annotated: forgetting an id again reports it as not there instead of failing', async () => {
    const tool = (await client.listTools()).tools.find((t) => t.name === 'forget');
    expect(tool?.annotations?.idempotentHint).toBe(true);
    const id = (await callOk(client, 'remember', { content: 'my old address is 12 Elm Street' })).stored[0].id;
    expect(await callOk(client, 'forget', { ids: [id] })).toEqual({ forgotten: [id], missing: [] });
    const again = await client.callTool({ name: 'forget', arguments: { ids: [id] } });
    expect(again.isError ?? false).toBe(false);
    expect(again.structuredContent).toEqual({ forgotten: [], missing: [id] });
    expect(textOf(again)).toBe(`forgot 0 memories; not there (never stored, or already forgotten): ${id}`);
  });
});

describe('record_outcome', () => {
  it('reports no next step once the goal is achieved or failed, and the first open step while it is active', async () => {
    const plan = [{ title: 'Reproduce' }, { title: 'Patch' }, { title: 'Verify' }];
    const goal = (await callOk(client, 'remember_goal', { title: 'Fix the login page', plan })).goal;
    const partial = await callOk(client, 'record_outcome', { goal_id: goal.id, result: 'partial', summary: 'Reproduced it locally' });
    expect([partial.goal.status, partial.next_step?.id]).toEqual(['active', goal.steps[0].id]);

    const achieved = await client.callTool({ name: 'record_outcome', arguments: { goal_id: goal.id, result: 'success', summary: 'Patched and verified in one go' } });
    const result = achieved.structuredContent as Record<string, any>;
    expect([result.goal.status, result.next_step]).toEqual(['achieved', null]);
    expect(textOf(achieved)).not.toMatch(/next step/);

    const other = (await callOk(client, 'remember_goal', { title: 'Rotate the signing keys', plan })).goal;
    expect((await callOk(client, 'record_outcome', { goal_id: other.id, result: 'failure', summary: 'The vault was down' })).next_step).toBeNull();
  });
});
