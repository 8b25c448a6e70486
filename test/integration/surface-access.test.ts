import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal, Role } from '../../src/domain/principal.js';
import { callOk } from '../helpers/calls.js';
import { collect } from '../helpers/collect.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

/**
 * Resources, prompts and completions reach records only as the principal's
 * tools would: on both backends, a key sees its namespaces, records of the
 * others answer as missing ones, and every read leaves an audit row.
 */
let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer();
});
afterEach(async () => {
  await linked.close();
});


const key = (role: Role, namespaces: string[] | null = null): Principal => ({ id: `key-${role}-${namespaces?.join('+') ?? 'all'}`, tenant: 'acme', role, namespaces, remoteAddress: '127.0.0.1' });

const failure = async (promise: Promise<unknown>): Promise<{ code: number; message: string }> =>
  promise.then(
    () => {
      throw new Error('expected a JSON-RPC error');
    },
    (error: { code: number; message: string }) => ({ code: error.code, message: error.message }),
  );

describe('resources, prompts and completions under roles and namespaces', () => {
  it('prompts follow the role; a confined key reads, lists, recalls and completes only its namespaces; every read is audited', async () => {
    const admin = linked.client;
    const a = (await callOk(admin, 'remember', { content: 'the deploy script needs the staging flag', namespace: 'a' })).stored[0].id as string;
    const b = (await callOk(admin, 'remember', { content: 'the deploy script of team b is secret', namespace: 'b' })).stored[0].id as string;
    const goalA = (await callOk(admin, 'remember_goal', { title: 'Fix the deploy script', namespace: 'a' })).goal.id as string;
    const goalB = (await callOk(admin, 'remember_goal', { title: 'Fix the deploy script for team b', namespace: 'b' })).goal.id as string;

    const prompts = async (role: Role) => (await (await linked.clientAs(key(role))).listPrompts()).prompts.map((p) => p.name);
    expect(await prompts('reader')).toEqual(['recall']);
    expect(await prompts('writer')).toEqual(['recall', 'record_outcome', 'plan_goal']);
    expect(await prompts('admin')).toEqual(['recall', 'record_outcome', 'plan_goal']);

    const confined = await linked.clientAs(key('writer', ['a']));
    const read = async (uri: string) => ((await confined.readResource({ uri })).contents[0] as { text: string }).text;
    expect(await read(`pinak://memory/${a}`)).toContain('staging flag');
    expect(await read(`pinak://goal/${goalA}`)).toContain('Fix the deploy script');
    const foreign = await failure(confined.readResource({ uri: `pinak://memory/${b}` }));
    expect(foreign).toEqual({ code: -32002, message: `MCP error -32002: no memory with id ${b}; call search_memory to find memory ids` });
    expect((await failure(confined.readResource({ uri: `pinak://goal/${goalB}` }))).code).toBe(-32002);
    expect((await confined.listResources()).resources.map((r) => r.uri)).toEqual(['pinak://goals/active', 'pinak://recent', `pinak://goal/${goalA}`, `pinak://memory/${a}`]);
    expect(await read('pinak://goals/active')).not.toContain(goalB);

    const recall = ((await confined.getPrompt({ name: 'recall', arguments: { task: 'deploy script' } })).messages[0]!.content as { text: string }).text;
    expect(recall).toContain(a);
    expect(recall).not.toContain(b);
    expect(recall).not.toContain('secret');
    expect((await failure(confined.getPrompt({ name: 'record_outcome', arguments: { goal_id: goalB } }))).code).toBe(-32002);
    const plan = ((await confined.getPrompt({ name: 'plan_goal', arguments: { title: 'deploy script' } })).messages[0]!.content as { text: string }).text;
    expect(plan).toContain(goalA);
    expect(plan).not.toContain(goalB);

    const goals = await confined.complete({ ref: { type: 'ref/prompt', name: 'record_outcome' }, argument: { name: 'goal_id', value: 'fix' } });
    expect(goals.completion.values).toEqual([goalA]);
    const namespaces = await confined.complete({ ref: { type: 'ref/prompt', name: 'plan_goal' }, argument: { name: 'namespace', value: '' } });
    expect(namespaces.completion.values).toEqual(['a']);
    const everyNamespace = await admin.complete({ ref: { type: 'ref/prompt', name: 'plan_goal' }, argument: { name: 'namespace', value: '' } });
    expect(everyNamespace.completion.values).toEqual(expect.arrayContaining(['*', 'a', 'b']));

    const rows = (await collect(linked.runtime.store.exportAudit())).filter((r) => r.principal_id === 'key-writer-a');
    const byTool = (tool: string) => rows.filter((r) => r.tool === tool);
    expect(byTool('resources/read').map((r) => r.error_code)).toEqual([null, null, 'not_found', 'not_found', null]);
    expect(byTool('resources/read')[0]).toMatchObject({ status: 'ok', tenant: 'acme', remote_address: '127.0.0.1', ids_returned: [a] });
    expect(byTool('resources/list')).toHaveLength(1);
    expect(byTool('prompts/get').map((r) => r.status)).toEqual(['ok', 'error', 'ok']);
    expect(byTool('completion/complete')).toHaveLength(2);
    // Nothing of the other namespace was returned to this key.
    expect(rows.flatMap((r) => r.ids_returned)).not.toContain(b);
    expect(rows.flatMap((r) => r.ids_returned)).not.toContain(goalB);
  });
});
