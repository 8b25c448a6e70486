import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { collect } from '../helpers/collect.js';

// Bad input to every tool gets a clear tool error (callError also checks no SQL, stack or path leaks), hostile
// search text is read as plain words, nothing refused is half-written, and the server keeps serving afterwards.

const TOOLS = ['remember', 'remember_goal', 'record_outcome', 'search_memory', 'get_memory', 'get_goal', 'list_goals', 'forget', 'memory_stats'];
const UNKNOWN = '01JD3Z6Q6H8W1V8N2X4C5B7E9F'; // a well-formed ULID that is never stored
const GARBAGE = ['not-an-id', "'; DROP TABLE memories; --", '../../etc/passwd', '💥', ' '];
const DEPLOY = 'the deployment pipeline uses blue green releases';
const ELSEWHERE = 'the platform team keeps its runbooks in the wiki';

/** A JSON object nested 40 objects deep. */
const DEEP = Array.from({ length: 39 }).reduce<Record<string, unknown>>((inner) => ({ next: inner }), { leaf: true });
const HUGE_METADATA = { blob: 'm'.repeat(17 * 1024) };
const LONG_TAG = 't'.repeat(10_000);

let linked: Linked;
let client: Client;
const ids = { deploy: '', elsewhere: '', goal: '', step: '', oldStep: '' };

beforeAll(async () => {
  linked = await linkedServer();
  client = linked.client;
  ids.deploy = (await callOk(client, 'remember', { content: DEPLOY })).stored[0].id;
  ids.elsewhere = (await callOk(client, 'remember', { content: ELSEWHERE, namespace: 'other' })).stored[0].id;
  const goal = (await callOk(client, 'remember_goal', { title: 'Ship the billing export', plan: [{ title: 'Write the CSV writer' }] })).goal;
  ids.goal = goal.id;
  ids.oldStep = goal.steps[0].id;
  const revised = await callOk(client, 'remember_goal', { goal_id: goal.id, plan: [{ title: 'Stream the CSV export' }], plan_reason: 'too slow' });
  ids.step = revised.goal.steps[0].id;
});

afterAll(async () => linked?.close());

const counts = (s: Record<string, any>) => ({ total: s.memories_total, ns: s.by_namespace, superseded: s.superseded, goals: s.goals_by_status, outcomes: s.outcomes });
const SEEDED = { total: 2, ns: { default: 1, other: 1 }, superseded: 0, goals: { active: 1 }, outcomes: 0 };

/** The server still answers, and holds exactly what beforeAll stored. */
async function expectNothingWritten(): Promise<void> {
  expect(counts(await callOk(client, 'memory_stats'))).toEqual(SEEDED);
}

/** A search that must succeed; returns the ids of its hits. */
async function searchIds(args: Record<string, unknown>): Promise<string[]> {
  const result = await client.callTool({ name: 'search_memory', arguments: args });
  expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
  const hits = (result.structuredContent as { hits: Array<{ id: string }> }).hits;
  expect(Array.isArray(hits)).toBe(true);
  return hits.map((h) => h.id);
}

describe('malformed arguments', () => {
  const wrongTypes: Array<[string, Record<string, unknown>, RegExp]> = [
    ['remember', { content: 42 }, /content: .*expected string/],
    ['remember', { content: 'x', layer: 'cosmic' }, /layer: /],
    ['remember', { content: 'x', importance: 'high' }, /importance: .*expected number/],
    ['remember', { content: 'x', metadata: [1, 2] }, /metadata: .*expected record/],
    ['remember', { memories: { content: 'x' } }, /memories: expected a list of memories/],
    ['remember_goal', { title: 7 }, /title: .*expected string/],
    ['remember_goal', { title: 'x', plan: 'just do it' }, /plan: expected a list of steps/],
    ['record_outcome', { goal_id: 1, result: 'success', summary: 'x' }, /goal_id: .*expected string/],
    ['record_outcome', { goal_id: UNKNOWN, result: 'win', summary: 'x' }, /result: /],
    ['search_memory', { query: 42 }, /query: .*expected string/],
    ['search_memory', { types: ['document'] }, /types\.0: /],
    ['search_memory', { include_superseded: 'yes' }, /include_superseded: .*expected boolean/],
    ['get_memory', { ids: 42 }, /ids: expected a list of strings/],
    ['get_goal', { goal_id: [UNKNOWN] }, /goal_id: .*expected string/],
    ['list_goals', { statuses: { active: true } }, /statuses: expected a list of strings/],
    ['forget', { ids: [1] }, /ids\.0: .*expected string/],
  ];
  it.each(wrongTypes)('%s refuses wrong JSON types: %j', async (tool, args, says) => {
    const text = await callError(client, tool, args);
    expect(text).toContain(`invalid arguments for ${tool}`);
    expect(text).toMatch(says);
  });

  const missing: Array<[string, Record<string, unknown>, RegExp]> = [
    ['remember', {}, /content is required/],
    ['remember', { memories: [{ layer: 'semantic' }] }, /memories\.0\.content: /],
    ['remember_goal', {}, /title is required/],
    ['remember_goal', { goal_id: UNKNOWN, step_updates: [{ status: 'done' }] }, /step_updates\.0\.step_id: /],
    ['record_outcome', {}, /goal_id: .*result: .*summary: /],
    ['get_memory', {}, /send id .* or ids/],
    ['get_goal', {}, /goal_id: /],
    ['forget', {}, /ids: /],
  ];
  it.each(missing)('%s refuses a call missing a required field: %j', async (tool, args, says) => {
    expect(await callError(client, tool, args)).toMatch(says);
  });

  const valid: Array<[string, Record<string, unknown>]> = [
    ['remember', { content: 'never stored' }],
    ['remember_goal', { title: 'never created' }],
    ['record_outcome', { goal_id: UNKNOWN, result: 'success', summary: 'x' }],
    ['search_memory', { query: 'deployment' }],
    ['get_memory', { id: UNKNOWN }],
    ['get_goal', { goal_id: UNKNOWN }],
    ['list_goals', {}],
    ['forget', { ids: [UNKNOWN] }],
    ['memory_stats', {}],
  ];
  it.each(valid)('%s refuses an unknown extra field', async (tool, args) => {
    expect(await callError(client, tool, { ...args, sql: 'DROP TABLE memories' })).toMatch(/Unrecognized key.*"sql"/);
  });

  it('remember and remember_goal refuse unknown fields inside batch items, plan steps and step updates', async () => {
    expect(await callError(client, 'remember', { memories: [{ content: 'x', colour: 'red' }] })).toMatch(/memories\.0: Unrecognized key.*"colour"/);
    expect(await callError(client, 'remember_goal', { title: 'x', plan: [{ title: 'a', owner: 'me' }] })).toMatch(/plan\.0: Unrecognized key.*"owner"/);
    const update = { goal_id: ids.goal, step_updates: [{ step_id: ids.step, status: 'done', when: 'now' }] };
    expect(await callError(client, 'remember_goal', update)).toMatch(/step_updates\.0: Unrecognized key.*"when"/);
    await expectNothingWritten();
  });

  it('every tool rejects arguments that are not an object, and the server keeps serving', async () => {
    for (const tool of TOOLS) {
      for (const args of [[1, 2], 'text', 42, null]) {
        // MCP requires an object here, so this is a protocol error: JSON-RPC -32602 Invalid params, from the SDK.
        const call = client.callTool({ name: tool, arguments: args as never });
        await expect(call, `${tool} ${JSON.stringify(args)}`).rejects.toThrow(/-32602[\s\S]*arguments[\s\S]*expected record/);
      }
    }
    await expectNothingWritten();
  });
});

describe('sizes and limits', () => {
  it('remember and record_outcome refuse text over the 32 KiB default, counted in UTF-8 bytes', async () => {
    expect(await callError(client, 'remember', { content: 'a'.repeat(32 * 1024 + 1) })).toMatch(/content is 32769 bytes, over the limit of 32768/);
    // 16385 characters, but 32770 bytes.
    expect(await callError(client, 'remember', { content: 'é'.repeat(16_385) })).toMatch(/content is 32770 bytes, over the limit of 32768/);
    const outcome = { goal_id: ids.goal, result: 'success', summary: 's'.repeat(32 * 1024 + 1) };
    expect(await callError(client, 'record_outcome', outcome)).toMatch(/summary is 32769 bytes, over the limit of 32768/);
    await expectNothingWritten();
  });

  it('remember, remember_goal and record_outcome refuse metadata over 16 KiB', async () => {
    const over = /metadata is \d+ bytes, over the limit of 16384/;
    expect(await callError(client, 'remember', { content: 'x', metadata: HUGE_METADATA })).toMatch(over);
    expect(await callError(client, 'remember_goal', { title: 'x', metadata: HUGE_METADATA })).toMatch(over);
    expect(await callError(client, 'remember_goal', { goal_id: ids.goal, metadata: HUGE_METADATA })).toMatch(over);
    const metrics = { goal_id: ids.goal, result: 'success', summary: 'x', metrics: HUGE_METADATA };
    expect(await callError(client, 'record_outcome', metrics)).toMatch(/metrics is \d+ bytes, over the limit of 16384/);
    await expectNothingWritten();
  });

  it('remember, remember_goal and record_outcome refuse metadata nested 40 levels deep', async () => {
    const deep = /metadata is nested deeper than 16 levels/;
    expect(await callError(client, 'remember', { content: 'x', metadata: DEEP })).toMatch(deep);
    expect(await callError(client, 'remember', { memories: [{ content: 'x' }, { content: 'y', metadata: DEEP }] })).toMatch(/memories\[1\]\.metadata is nested/);
    expect(await callError(client, 'remember_goal', { title: 'x', metadata: DEEP })).toMatch(deep);
    expect(await callError(client, 'remember_goal', { goal_id: ids.goal, metadata: DEEP })).toMatch(deep);
    const metrics = { goal_id: ids.goal, result: 'success', summary: 'x', metrics: DEEP };
    expect(await callError(client, 'record_outcome', metrics)).toMatch(/metrics is nested deeper than 16 levels/);
    expect((await callOk(client, 'get_goal', { goal_id: ids.goal })).goal.metadata).toEqual({});
    await expectNothingWritten();
  });

  it('remember refuses a batch of 101 memories', async () => {
    const memories = Array.from({ length: 101 }, (_, i) => ({ content: `batch item ${i}` }));
    expect(await callError(client, 'remember', { memories })).toMatch(/memories: .*100/);
    await expectNothingWritten();
  });

  it('forget, get_memory and remember_goal refuse lists over their maximum', async () => {
    expect(await callError(client, 'forget', { ids: Array(101).fill(UNKNOWN) })).toMatch(/ids: .*100/);
    expect(await callError(client, 'get_memory', { ids: Array(11).fill(UNKNOWN) })).toMatch(/ids: .*10/);
    expect(await callError(client, 'get_memory', { id: UNKNOWN, ids: Array(10).fill(UNKNOWN) })).toMatch(/at most 10 ids/);
    expect(await callError(client, 'remember_goal', { title: 'x', plan: Array(51).fill({ title: 's' }) })).toMatch(/plan: .*50/);
  });

  it('remember, remember_goal and search_memory refuse a 10,000-character tag', async () => {
    expect(await callError(client, 'remember', { content: 'x', tags: [LONG_TAG] })).toMatch(/tags\.0: .*64/);
    expect(await callError(client, 'remember', { memories: [{ content: 'x', tags: [LONG_TAG] }] })).toMatch(/memories\.0\.tags\.0: .*64/);
    expect(await callError(client, 'remember_goal', { title: 'x', tags: [LONG_TAG] })).toMatch(/tags\.0: .*64/);
    expect(await callError(client, 'search_memory', { tags_any: [LONG_TAG] })).toMatch(/tags_any\.0: .*64/);
    expect(await callError(client, 'search_memory', { tags_all: ['ok', LONG_TAG] })).toMatch(/tags_all\.1: .*64/);
    await expectNothingWritten();
  });

  it.each([-1, 0, 101, 1e9, 2.5, Number.MAX_VALUE])('search_memory and list_goals refuse limit %s', async (limit) => {
    expect(await callError(client, 'search_memory', { query: 'deployment', limit })).toMatch(/limit: /);
    expect(await callError(client, 'list_goals', { limit })).toMatch(/limit: /);
  });
});

describe('unknown ids', () => {
  it.each([UNKNOWN, ...GARBAGE])('get_memory and get_goal report id %j as not found, forget as not there', async (id) => {
    expect(await callError(client, 'get_memory', { id })).toMatch(/no memory with id .*call search_memory/);
    expect(await callError(client, 'get_goal', { goal_id: id })).toMatch(/goal .* not found; call list_goals/);
    expect(await callOk(client, 'forget', { ids: [id] })).toEqual({ forgotten: [], missing: [id] });
    await expectNothingWritten();
  });

  it.each(['', 'x'.repeat(65)])('get_memory, get_goal and forget refuse the malformed id %j', async (id) => {
    expect(await callError(client, 'get_memory', { id })).toMatch(/^invalid arguments for get_memory: id: /);
    expect(await callError(client, 'get_goal', { goal_id: id })).toMatch(/^invalid arguments for get_goal: goal_id: /);
    expect(await callError(client, 'forget', { ids: [id] })).toMatch(/^invalid arguments for forget: ids\.0: /);
  });

  it('memory ids and goal ids are not interchangeable', async () => {
    expect(await callError(client, 'get_goal', { goal_id: ids.deploy })).toMatch(/goal .* not found/);
    expect(await callError(client, 'get_memory', { id: ids.goal })).toMatch(/no memory with id/);
    expect(await callOk(client, 'forget', { ids: [ids.goal, ids.step] })).toEqual({ forgotten: [], missing: [ids.goal, ids.step] });
    await expectNothingWritten();
  });

  it('remember, remember_goal and record_outcome refuse unknown goal, parent and superseded ids', async () => {
    expect(await callError(client, 'remember', { content: 'x', goal_id: UNKNOWN })).toMatch(/goal .* not found/);
    expect(await callError(client, 'remember', { content: 'x', supersedes: UNKNOWN })).toMatch(/memory .* not found; cannot supersede/);
    expect(await callError(client, 'remember_goal', { goal_id: UNKNOWN, status: 'achieved' })).toMatch(/goal .* not found/);
    expect(await callError(client, 'remember_goal', { title: 'x', parent_goal_id: UNKNOWN })).toMatch(/parent goal .* not found/);
    expect(await callError(client, 'record_outcome', { goal_id: 'garbage', result: 'success', summary: 'x' })).toMatch(/goal garbage not found/);
    await expectNothingWritten();
  });

  it('search_memory and list_goals answer an unknown id used as a filter with an empty list', async () => {
    expect(await searchIds({ query: 'deployment', goal_id: UNKNOWN })).toEqual([]);
    expect((await callOk(client, 'list_goals', { parent_goal_id: UNKNOWN })).goals).toEqual([]);
  });

  it('remember_goal and record_outcome refuse a step that is not in the current plan', async () => {
    const update = { goal_id: ids.goal, step_updates: [{ step_id: ids.oldStep, status: 'done' }] };
    expect(await callError(client, 'remember_goal', update)).toMatch(/step .* not in the current plan.*call get_goal/);
    const outcome = { goal_id: ids.goal, step_id: ids.oldStep, result: 'success', summary: 'x' };
    expect(await callError(client, 'record_outcome', outcome)).toMatch(/step .* not in the current plan/);
    expect(await callError(client, 'record_outcome', { ...outcome, step_id: ids.deploy })).toMatch(/step .* not found/);
    const goal = (await callOk(client, 'get_goal', { goal_id: ids.goal })).goal;
    expect(goal.steps.map((s: { status: string }) => s.status)).toEqual(['pending']);
    expect(goal.status).toBe('active');
    await expectNothingWritten();
  });

  it('remember refuses to supersede a memory of another namespace', async () => {
    expect(await callError(client, 'remember', { content: 'correction', supersedes: ids.elsewhere })).toMatch(/memory .* not found; cannot supersede/);
    const across = { content: 'correction', namespace: 'other', supersedes: ids.deploy };
    expect(await callError(client, 'remember', across)).toMatch(/cannot supersede/);
    const { memories } = await callOk(client, 'get_memory', { ids: [ids.deploy, ids.elsewhere] });
    expect(memories.map((m: { superseded_by: string | null }) => m.superseded_by)).toEqual([null, null]);
    await expectNothingWritten();
  });
});

describe('refused batches are not half-written', () => {
  it('remember stores none of a batch of 3 whose 3rd item supersedes an unknown id', async () => {
    const memories = [{ content: 'marmalade is made from bitter oranges' }, { content: 'quince paste goes with cheese' }, { content: 'persimmons ripen late', supersedes: UNKNOWN }];
    expect(await callError(client, 'remember', { memories })).toMatch(new RegExp(`memory ${UNKNOWN} not found`));
    expect(await searchIds({ query: 'marmalade quince persimmons' })).toEqual([]);
    await expectNothingWritten();
  });

  it('remember stores none of a batch whose 2nd item is oversize', async () => {
    const memories = [{ content: 'tangerine groves' }, { content: 'x'.repeat(40_000) }];
    expect(await callError(client, 'remember', { memories })).toMatch(/memories\[1\]\.content is 40000 bytes/);
    expect(await searchIds({ query: 'tangerine' })).toEqual([]);
    await expectNothingWritten();
  });

  it('remember refuses a batch where two items supersede the same memory', async () => {
    const memories = [{ content: 'fix one', supersedes: ids.deploy }, { content: 'fix two', supersedes: ids.deploy }];
    expect(await callError(client, 'remember', { memories })).toMatch(/two memories in this batch supersede/);
    expect(await callError(client, 'remember', { content: 'x', memories: [{ content: 'y' }] })).toMatch(/either content .* or memories/);
    await expectNothingWritten();
  });
});

describe('hostile search strings are plain words', () => {
  const hostile: Array<[string, string]> = [
    ['an unbalanced quote', '"unterminated'], ['unbalanced parentheses', '((a) b'],
    ['a lone star', '*'], ['a lone minus', '-'], ['a caret', '^'],
    ['NEAR()', 'NEAR(a b)'], ['boolean operators', 'a AND OR NOT b'],
    ['a column filter', 'content: x'], ['a body column filter', 'body:foo'],
    ['an SQL fragment', "'; DROP TABLE memories; --"], ['emoji only', '🚀🔥❤️👍🏽'], ['NUL bytes', '\0\0'],
    ['a lone high surrogate', '\uD800'], ['a lone low surrogate', '\uDC00'], ['an empty string', ''],
  ];
  it.each(hostile)('search_memory reads %s as plain words: hits, not an error, and a stored word next to it is found', async (_label, bad) => {
    await searchIds({ query: bad });
    expect(await searchIds({ query: `${bad} deployment ${bad}` })).toContain(ids.deploy);
  });

  it('search_memory finds the deployment memory with NEAR("deployment" pipeline*', async () => {
    expect(await searchIds({ query: 'NEAR("deployment" pipeline*' })).toEqual([ids.deploy]);
  });

  it('search_memory accepts a 10 KiB query and still finds its words', async () => {
    const query = `deployment ${'NEAR("x" ^-* '.repeat(1000)}`.slice(0, 10 * 1024);
    expect(query.length).toBe(10 * 1024);
    expect(await searchIds({ query })).toContain(ids.deploy);
  });
});

describe('after all of that', () => {
  it('remember and search_memory still work, and memory_stats counts only what was stored', async () => {
    await expectNothingWritten();
    const stored = await callOk(client, 'remember', { content: 'the kumquat orchard is watered at dawn', tags: ['garden'] });
    expect(await searchIds({ query: 'kumquat' })).toEqual([stored.stored[0].id]);
    expect(await searchIds({ query: 'deployment' })).toEqual([ids.deploy]);
    expect(counts(await callOk(client, 'memory_stats'))).toEqual({ ...SEEDED, total: 3, ns: { default: 2, other: 1 } });
  });

  it('a refused call leaves an audit row with status invalid', async () => {
    const args = { content: 42, kind: 'audit-probe' };
    await callError(client, 'remember', args);
    const rows = await collect(linked.runtime.store.exportAudit());
    const row = rows.find((r) => r.args_sha256 === linked.runtime.audit.fingerprint(args).sha256);
    expect(row).toMatchObject({ tool: 'remember', status: 'invalid', error_code: 'invalid_input', ids_touched: [], ids_returned: [] });
    expect(rows.filter((r) => r.status === 'invalid').length).toBeGreaterThan(50);
  });

  it('no audit row contains memory text, goal text or search text', async () => {
    const trail = JSON.stringify(await collect(linked.runtime.store.exportAudit()));
    for (const text of ['deployment', 'blue green', 'runbooks', 'marmalade', 'kumquat', 'billing export', 'DROP TABLE', 'audit-probe']) {
      expect(trail).not.toContain(text);
    }
  });
});

describe('a server configured with maxContentBytes 100', () => {
  let small: Linked;
  let goalId: string;
  beforeAll(async () => {
    small = await linkedServer({ maxContentBytes: 100 });
    goalId = (await callOk(small.client, 'remember_goal', { title: 'Tiny goal' })).goal.id;
  });
  afterAll(async () => small?.close());
  const count = async (): Promise<number> => (await callOk(small.client, 'memory_stats')).memories_total;

  it('remember accepts exactly 100 bytes and refuses 101, alone or in a batch that then stores nothing', async () => {
    await callOk(small.client, 'remember', { content: 'a'.repeat(100) });
    expect(await callError(small.client, 'remember', { content: 'a'.repeat(101) })).toMatch(/content is 101 bytes, over the limit of 100/);
    expect(await callError(small.client, 'remember', { content: 'é'.repeat(51) })).toMatch(/content is 102 bytes/);
    const memories = [{ content: 'short' }, { content: 'b'.repeat(101) }];
    expect(await callError(small.client, 'remember', { memories })).toMatch(/memories\[1\]\.content is 101 bytes, over the limit of 100/);
    expect(await count()).toBe(1);
  });

  it('record_outcome refuses a summary over the limit', async () => {
    const args = { goal_id: goalId, result: 'failure', summary: 's'.repeat(101) };
    expect(await callError(small.client, 'record_outcome', args)).toMatch(/summary is 101 bytes, over the limit of 100/);
    expect((await callOk(small.client, 'memory_stats')).outcomes).toBe(0);
  });

  it('record_outcome refuses a lesson over the limit, since each lesson is stored as a memory', async () => {
    const before = await count();
    const args = { goal_id: goalId, result: 'failure', summary: 'it broke', lessons: ['l'.repeat(300)] };
    expect(await callError(small.client, 'record_outcome', args)).toMatch(/lesson.* over the limit of 100/);
    expect(await count()).toBe(before);
  });
});

describe('impossible calendar dates', () => {
  let dates: Linked;
  beforeAll(async () => void (dates = await linkedServer()));
  afterAll(async () => dates?.close());

  it.each(['2025-02-30', '2025-04-31', '2025-02-29T10:00:00Z'])('remember and search_memory refuse %s instead of rolling it over', async (date) => {
    expect(await callError(dates.client, 'remember', { content: 'x', occurred_at: date })).toMatch(/occurred_at: .*ISO 8601/);
    expect(await callError(dates.client, 'search_memory', { since: date })).toMatch(/since: .*ISO 8601/);
    expect((await callOk(dates.client, 'memory_stats')).memories_total).toBe(0);
  });
});
