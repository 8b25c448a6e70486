import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

// Models often send one string where a list of strings is expected: it can only mean a one-item list.
// Anything else that is not a list gets a message that says a list is expected, not a length check
// that zod ran on the wrong type.

let linked: Linked;
beforeAll(async () => {
  linked = await linkedServer();
});
afterAll(async () => linked?.close());

describe('a lone string where a list of strings is expected', () => {
  it('is a one-item list for remember tags, goal success criteria and outcome lessons', async () => {
    const memory = (await callOk(linked.client, 'remember', { content: 'Alice prefers dark mode', tags: 'ui' })).stored[0];
    expect((await callOk(linked.client, 'get_memory', { ids: memory.id })).memories[0].tags).toEqual(['ui']);

    const goal = (await callOk(linked.client, 'remember_goal', { title: 'Ship the billing export', success_criteria: 'Exports finish in under five seconds' })).goal;
    expect(goal.success_criteria).toEqual(['Exports finish in under five seconds']);

    const outcome = await callOk(linked.client, 'record_outcome', { goal_id: goal.id, result: 'success', summary: 'Shipped', lessons: 'Stream large exports' });
    expect(outcome.lesson_memory_ids).toHaveLength(1);
    expect(outcome.goal.outcomes[0].lessons).toEqual(['Stream large exports']);
  });

  it('is a one-item list for search filters, list_goals statuses and forget ids', async () => {
    const stored = (await callOk(linked.client, 'remember', { memories: [
      { content: 'the deploy runs on Tuesdays', layer: 'semantic', kind: 'fact', tags: ['ops'] },
      { content: 'the deploy failed on Tuesday', layer: 'episodic', kind: 'event' },
    ] })).stored;
    const search = (args: Record<string, unknown>) => callOk(linked.client, 'search_memory', { query: 'deploy Tuesday', mode: 'keyword', ...args });
    expect((await search({ layers: 'episodic' })).hits.map((h: { id: string }) => h.id)).toEqual([stored[1].id]);
    expect((await search({ kinds: 'fact' })).hits.map((h: { id: string }) => h.id)).toEqual([stored[0].id]);
    expect((await search({ types: 'memory', tags_any: 'ops', tags_all: 'ops' })).hits.map((h: { id: string }) => h.id)).toEqual([stored[0].id]);
    expect((await callOk(linked.client, 'list_goals', { statuses: 'achieved' })).goals).toHaveLength(1);
    expect((await callOk(linked.client, 'forget', { ids: stored[1].id })).forgotten).toEqual([stored[1].id]);
  });
});

describe('a value that is not a list', () => {
  it.each([
    ['remember_goal', { title: 'x', success_criteria: 42 }, 'success_criteria'],
    ['search_memory', { query: 'x', layers: 5 }, 'layers'],
    ['search_memory', { query: 'x', layers: { length: 9 } }, 'layers'],
    ['record_outcome', { goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', result: 'success', summary: 'x', lessons: { first: 'a' } }, 'lessons'],
    ['forget', { ids: null }, 'ids'],
  ])('%s says "expected a list of strings" and nothing about lengths: %j', async (tool, args, field) => {
    const text = await callError(linked.client, tool, args);
    expect(text).toBe(`invalid arguments for ${tool}: ${field}: expected a list of strings, e.g. ["…"]`);
  });

  it('says which list of objects a batch, plan or step update needs', async () => {
    expect(await callError(linked.client, 'remember', { memories: 'Alice likes tea' })).toMatch(/^invalid arguments for remember: memories: expected a list of memories: objects with content/);
    expect(await callError(linked.client, 'remember_goal', { title: 'x', plan: 'just do it' })).toBe('invalid arguments for remember_goal: plan: expected a list of steps, e.g. [{"title": "…"}]');
    expect(await callError(linked.client, 'remember_goal', { goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', step_updates: 'done' })).toMatch(/^invalid arguments for remember_goal: step_updates: expected a list of step updates, e\.g\. \[\{"step_id"/);
  });

  it('a list item of the wrong kind is still named by its place in the list', async () => {
    expect(await callError(linked.client, 'search_memory', { query: 'x', layers: 'cosmic' })).toMatch(/^invalid arguments for search_memory: layers\.0: Invalid option: expected one of "semantic"\|"episodic"\|"procedural"$/);
    expect(await callError(linked.client, 'remember_goal', { title: 'x', success_criteria: ['y'.repeat(1001)] })).toMatch(/success_criteria\.0: Too big: expected string to have <=1000 characters$/);
  });
});
