import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk, rpcError } from '../helpers/calls.js';
import { auditOf, useHttpHarness } from '../helpers/http-harness.js';
import { spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const textOf = (result: { messages: Array<{ content: { type: string; text?: string } }> }): string => {
  expect(result.messages).toHaveLength(1);
  expect(result.messages[0]!.content.type).toBe('text');
  return result.messages[0]!.content.text!;
};

describe('MCP prompts over stdio', () => {
  it('recall, record_outcome and plan_goal pack what the memory holds, bounded; arguments complete; gets are audited', async () => {
    const temp = makeTempDir('pinak-prompts-');
    const server = await spawnServer(temp.dir, ['--embed-model', 'none']);
    try {
      const { client } = server;
      const listed = await client.listPrompts();
      expect(listed.prompts.map((p) => p.name)).toEqual(['recall', 'record_outcome', 'plan_goal']);
      for (const prompt of listed.prompts) expect(prompt.description).toBeTruthy();

      const fact = (await callOk(client, 'remember', { content: 'The billing export times out for accounts with more than 10k invoices.', layer: 'semantic' })).stored[0].id as string;
      const goal = await callOk(client, 'remember_goal', { title: 'Speed up the billing export', plan: [{ title: 'Profile the export query' }, { title: 'Stream rows to the CSV writer' }] });
      const goalId = goal.goal.id as string;
      await callOk(client, 'record_outcome', { goal_id: goalId, result: 'success', summary: 'Streaming the rows fixed the billing export timeouts.', lessons: ['Stream billing exports row by row instead of buffering.'] });
      const other = (await callOk(client, 'remember_goal', { title: 'Write the quarterly report' })).goal.id as string;

      const recall = textOf(await client.getPrompt({ name: 'recall', arguments: { task: 'fix the slow billing export' } }));
      expect(recall).toContain('Task: fix the slow billing export');
      expect(recall).toContain(`pinak://memory/${fact}`);
      expect(recall).toContain('## Related goals, with outcomes and lessons');
      expect(recall).toContain(`Speed up the billing export (achieved; pinak://goal/${goalId})`);
      expect(recall).toContain('lesson: Stream billing exports row by row instead of buffering.');
      expect(recall).not.toContain('quarterly report');
      // A layer keeps only that layer's memories.
      const procedural = textOf(await client.getPrompt({ name: 'recall', arguments: { task: 'billing export', layer: 'procedural' } }));
      expect(procedural).not.toContain(`pinak://memory/${fact}`);
      expect(procedural).toMatch(/\[procedural\/lesson\]/);

      const record = textOf(await client.getPrompt({ name: 'record_outcome', arguments: { goal_id: other } }));
      expect(record).toContain('Record how this goal went: "Write the quarterly report"');
      expect(record).toContain('(no plan yet)');
      expect(record).toContain(`goal_id: "${other}"`);
      const recordPlanned = textOf(await client.getPrompt({ name: 'record_outcome', arguments: { goal_id: goalId } }));
      expect(recordPlanned).toMatch(/1\. \[pending\] Profile the export query \(step \w+\)/);

      const plan = textOf(await client.getPrompt({ name: 'plan_goal', arguments: { title: 'Make the invoice export fast' } }));
      expect(plan).toContain('Plan this goal: Make the invoice export fast');
      expect(plan).toContain(`(achieved; pinak://goal/${goalId})`);
      expect(plan).toContain('## Lessons learned');
      expect(plan).toMatch(/pinak:\/\/memory\/\w+ \(\d{4}-\d\d-\d\d\) \[procedural\/lesson\] default: Stream billing exports row by row/);

      // Bounded: many long memories do not make a prompt longer than its budget.
      await callOk(client, 'remember', { memories: Array.from({ length: 20 }, (_, i) => ({ content: `billing export detail ${i} ${'lorem ipsum '.repeat(2500)}` })) });
      const busy = (await callOk(client, 'remember_goal', { title: 'Billing export detail work' })).goal.id as string;
      for (let i = 0; i < 4; i++) {
        await callOk(client, 'record_outcome', { goal_id: busy, result: 'partial', summary: `round ${i} ${'summary words '.repeat(200)}`, lessons: Array.from({ length: 10 }, (_, j) => `lesson ${i}.${j} ${'careful words '.repeat(100)}`), update_status: false });
      }
      const big = textOf(await client.getPrompt({ name: 'recall', arguments: { task: 'billing export detail' } }));
      expect(big.length).toBeLessThan(16_200);
      expect(big).toContain('characters shown; open the records named above with resources/read, get_memory or get_goal)');
      // Each snippet is cut short too.
      expect(big).not.toContain('lorem ipsum '.repeat(60));

      // Bad arguments: clear invalid-params errors.
      expect(await rpcError(client.getPrompt({ name: 'recall', arguments: {} }))).toEqual({ code: -32602, message: 'MCP error -32602: the recall prompt needs the argument task' });
      expect(await rpcError(client.getPrompt({ name: 'recall', arguments: { task: 'x', layer: 'nope' } }))).toMatchObject({ code: -32602, message: expect.stringMatching(/layer must be one of semantic, episodic, procedural/) });
      expect(await rpcError(client.getPrompt({ name: 'record_outcome', arguments: { goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' } }))).toMatchObject({ code: -32002, message: expect.stringMatching(/not found/) });
      expect(await rpcError(client.getPrompt({ name: 'summon', arguments: {} }))).toMatchObject({ code: -32602, message: expect.stringMatching(/unknown prompt "summon"; this key may use recall, record_outcome, plan_goal/) });

      // Completions: goal ids by prefix or by words of the title; namespaces; layers.
      const byPrefix = await client.complete({ ref: { type: 'ref/prompt', name: 'record_outcome' }, argument: { name: 'goal_id', value: other.slice(0, 24) } });
      expect(byPrefix.completion.values).toEqual([other]);
      const byTitle = await client.complete({ ref: { type: 'ref/prompt', name: 'record_outcome' }, argument: { name: 'goal_id', value: 'quarterly' } });
      expect(byTitle.completion.values).toEqual([other]);
      const every = await client.complete({ ref: { type: 'ref/prompt', name: 'record_outcome' }, argument: { name: 'goal_id', value: '' } });
      // Active goals first.
      expect(every.completion.values).toEqual([busy, other, goalId]);
      expect((await client.complete({ ref: { type: 'ref/prompt', name: 'recall' }, argument: { name: 'namespace', value: 'de' } })).completion.values).toEqual(['default']);
      expect((await client.complete({ ref: { type: 'ref/prompt', name: 'recall' }, argument: { name: 'layer', value: 'e' } })).completion.values).toEqual(['episodic']);
      expect((await client.complete({ ref: { type: 'ref/resource', uri: 'pinak://goal/{id}' }, argument: { name: 'id', value: 'speed' } })).completion.values).toEqual([goalId]);
      expect((await client.complete({ ref: { type: 'ref/prompt', name: 'no_such_prompt' }, argument: { name: 'x', value: '' } })).completion.values).toEqual([]);

      await server.close();
      const rows = auditOf(temp.dir);
      const gets = rows.filter((r) => r.tool === 'prompts/get');
      expect(gets.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'invalid', 'invalid', 'error', 'invalid']);
      expect(gets[0]).toMatchObject({ principal_id: 'local', error_code: null, ids_returned: expect.arrayContaining([fact, goalId]) });
      expect(gets[8]).toMatchObject({ error_code: 'not_found' });
      expect(rows.filter((r) => r.tool === 'completion/complete')).toHaveLength(7);
    } finally {
      await server.close().catch(() => {});
      temp.cleanup();
    }
  }, 60_000);
});

describe('MCP prompts over HTTP with keys', () => {
  const harness = useHttpHarness('pinak-prompts-http-', { args: ['--embed-model', 'none'] });

  it('a reader gets only recall; a confined key completes only its namespaces and goals, and recalls only its namespace', async () => {
    const dir = harness.tempDataDir();
    const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader', '--namespaces', 'alpha,gamma']);
    const confinedWriter = createKey(dir, ['--tenant', 'acme', '--role', 'writer', '--namespaces', 'alpha']);
    const server = await harness.start(dir, ['--auth', 'keys']);
    const { client: write } = await harness.connect(keyedClient(server.origin, writer.key));
    const alphaGoal = (await callOk(write, 'remember_goal', { title: 'Alpha billing export', namespace: 'alpha' })).goal.id as string;
    const betaGoal = (await callOk(write, 'remember_goal', { title: 'Beta billing export', namespace: 'beta' })).goal.id as string;
    await callOk(write, 'remember', { content: 'beta secret about the billing export', namespace: 'beta' });
    expect((await write.listPrompts()).prompts.map((p) => p.name)).toEqual(['recall', 'record_outcome', 'plan_goal']);

    const { client: read } = await harness.connect(keyedClient(server.origin, reader.key));
    expect((await read.listPrompts()).prompts.map((p) => p.name)).toEqual(['recall']);
    expect(await rpcError(read.getPrompt({ name: 'plan_goal', arguments: { title: 'x' } }))).toMatchObject({ code: -32602, message: expect.stringMatching(/this key may use recall$/) });
    expect((await read.complete({ ref: { type: 'ref/prompt', name: 'recall' }, argument: { name: 'namespace', value: '' } })).completion.values).toEqual(['alpha', 'gamma']);
    const recall = textOf(await read.getPrompt({ name: 'recall', arguments: { task: 'billing export' } }));
    expect(recall).toContain(alphaGoal);
    expect(recall).not.toContain(betaGoal);
    expect(recall).not.toContain('beta secret');
    expect(await rpcError(read.getPrompt({ name: 'recall', arguments: { task: 'billing export', namespace: 'beta' } }))).toMatchObject({ code: -32600, message: expect.stringMatching(/may not use namespace "beta"/) });

    const { client: confined } = await harness.connect(keyedClient(server.origin, confinedWriter.key));
    expect((await confined.complete({ ref: { type: 'ref/prompt', name: 'record_outcome' }, argument: { name: 'goal_id', value: '' } })).completion.values).toEqual([alphaGoal]);
    expect(await rpcError(confined.getPrompt({ name: 'record_outcome', arguments: { goal_id: betaGoal } }))).toMatchObject({ code: -32002 });

    const rows = auditOf(dir, 'acme').filter((r) => r.tool === 'prompts/get' && r.principal_id === reader.id);
    expect(rows.map((r) => r.error_code)).toEqual(['invalid_input', null, 'forbidden']);
  }, 60_000);
});
