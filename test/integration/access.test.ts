import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL, ROLES, type Principal, type Role } from '../../src/domain/principal.js';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { collect } from '../helpers/collect.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer();
});
afterEach(async () => {
  await linked.close();
});


const key = (role: Role, namespaces: string[] | null = null): Principal => ({ id: `key-${role}-${namespaces?.join('+') ?? 'all'}`, tenant: 'acme', role, namespaces, remoteAddress: '127.0.0.1' });
const audit = () => collect(linked.runtime.store.exportAudit());

const ALLOWED: Record<Role, string[]> = {
  reader: ['get_goal', 'get_memory', 'list_goals', 'memory_stats', 'search_memory'],
  writer: ['get_goal', 'get_memory', 'list_goals', 'memory_stats', 'record_outcome', 'remember', 'remember_goal', 'search_memory'],
  admin: ['forget', 'get_goal', 'get_memory', 'list_goals', 'memory_stats', 'record_outcome', 'remember', 'remember_goal', 'search_memory'],
};

describe('roles', () => {
  it('every role × every tool: allowed tools work and are listed, the others are refused with a tool error and an audit row', async () => {
    const admin = linked.client;
    for (const role of ROLES) {
      const memory = (await callOk(admin, 'remember', { content: `matrix memory for ${role}` })).stored[0].id as string;
      const doomed = (await callOk(admin, 'remember', { content: `matrix memory to forget for ${role}` })).stored[0].id as string;
      const goal = (await callOk(admin, 'remember_goal', { title: `Matrix goal for ${role}` })).goal.id as string;
      const calls: Record<string, Record<string, unknown>> = {
        remember: { content: `written by ${role}` },
        remember_goal: { title: `Goal written by ${role}` },
        record_outcome: { goal_id: goal, result: 'partial', summary: `progress by ${role}` },
        search_memory: { query: 'matrix memory' },
        get_memory: { id: memory },
        get_goal: { goal_id: goal },
        list_goals: {},
        forget: { ids: [doomed] },
        memory_stats: {},
      };
      const principal = key(role);
      const client = await linked.clientAs(principal);
      expect((await client.listTools()).tools.map((t) => t.name).sort(), role).toEqual(ALLOWED[role]);
      for (const [tool, args] of Object.entries(calls)) {
        const before = (await audit()).length;
        if (ALLOWED[role].includes(tool)) {
          await callOk(client, tool, args);
          expect((await audit()).at(-1), `${role} ${tool}`).toMatchObject({ tool, status: 'ok', principal_id: principal.id, tenant: 'acme', remote_address: '127.0.0.1' });
        } else {
          const message = await callError(client, tool, args);
          expect(message, `${role} ${tool}`).toMatch(new RegExp(`^forbidden: the ${role} role cannot call ${tool} \\(it needs the (writer|admin) role\\)`));
          expect((await audit()).at(-1), `${role} ${tool}`).toMatchObject({ tool, status: 'error', error_code: 'forbidden', principal_id: principal.id, tenant: 'acme' });
        }
        expect((await audit()).length).toBe(before + 1);
      }
      // The refused forget deleted nothing.
      if (role !== 'admin') expect((await callOk(admin, 'get_memory', { id: doomed })).memories).toHaveLength(1);
    }
    // stdio and in-process clients are the local principal: admin of every tool.
    expect((await admin.listTools()).tools.map((t) => t.name).sort()).toEqual(ALLOWED.admin);
    expect((await audit())[0]).toMatchObject({ principal_id: LOCAL_PRINCIPAL.id, tenant: 'local', remote_address: null });
  });

  it('an unknown tool is a JSON-RPC -32602 error listing only the tools the caller may use', async () => {
    const reader = await linked.clientAs(key('reader'));
    const error = await reader.callTool({ name: 'drop_everything', arguments: {} }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidParams, message: 'MCP error -32602: Unknown tool: drop_everything', data: { tools: ['search_memory', 'get_memory', 'get_goal', 'list_goals', 'memory_stats'] } });
  });
});

describe('namespace-limited keys', () => {
  const OTHER = 'other';
  let limited: Client;
  let foreign: { memory: string; goal: string };
  beforeEach(async () => {
    limited = await linked.clientAs(key('admin', ['alpha', 'beta']));
    foreign = {
      memory: (await callOk(linked.client, 'remember', { content: 'secret plan of the other team', namespace: OTHER, thread_id: 't1' })).stored[0].id,
      goal: (await callOk(linked.client, 'remember_goal', { title: 'Other team goal', namespace: OTHER })).goal.id,
    };
  });

  it('writes default to the first namespace, may name the others allowed, and are refused elsewhere', async () => {
    expect((await callOk(limited, 'remember', { content: 'alpha note' })).stored[0].namespace).toBe('alpha');
    expect((await callOk(limited, 'remember', { content: 'beta note', namespace: 'beta' })).stored[0].namespace).toBe('beta');
    const batch = await callOk(limited, 'remember', { memories: [{ content: 'batch one' }, { content: 'batch two', namespace: 'beta' }] });
    expect(batch.stored.map((m: { namespace: string }) => m.namespace)).toEqual(['alpha', 'beta']);
    expect(await callError(limited, 'remember', { content: 'sneaky', namespace: OTHER })).toBe('forbidden: this key may not use namespace "other"; it may use "alpha", "beta"');
    expect(await callError(limited, 'remember', { memories: [{ content: 'ok' }, { content: 'sneaky', namespace: OTHER }] })).toMatch(/^forbidden/);
    expect((await callOk(limited, 'remember_goal', { title: 'Alpha goal' })).goal.namespace).toBe('alpha');
    expect(await callError(limited, 'remember_goal', { title: 'Other goal', namespace: OTHER })).toMatch(/^forbidden/);
    // Links to records of other namespaces are not found.
    expect(await callError(limited, 'remember', { content: 'x', supersedes: foreign.memory })).toMatch(/not found/);
    expect(await callError(limited, 'remember', { content: 'x', goal_id: foreign.goal })).toMatch(/not found/);
    expect((await audit()).at(-3)).toMatchObject({ status: 'error', error_code: 'forbidden', principal_id: 'key-admin-alpha+beta' });
    // Nothing reached the other namespace.
    expect((await callOk(linked.client, 'search_memory', { query: '', namespace: OTHER })).hits).toHaveLength(2);
  });

  it('search and list stay in the allowed namespaces; "*" and other namespaces are refused', async () => {
    await callOk(limited, 'remember', { content: 'the secret plan of alpha' });
    const hits = (await callOk(limited, 'search_memory', { query: 'secret plan', context: 2 })).hits;
    expect(hits.map((h: { namespace: string }) => h.namespace)).toEqual(['alpha']);
    expect((await callOk(limited, 'search_memory', { query: 'secret plan', namespace: 'beta' })).hits).toEqual([]);
    expect(await callError(limited, 'search_memory', { query: 'secret plan', namespace: '*' })).toMatch(/^forbidden: namespace "\*" \(all namespaces\) is not available to this key/);
    expect(await callError(limited, 'search_memory', { query: 'secret plan', namespace: OTHER })).toMatch(/^forbidden/);
    expect((await callOk(limited, 'list_goals', {})).goals).toEqual([]);
    expect(await callError(limited, 'list_goals', { namespace: '*' })).toMatch(/^forbidden/);
    expect(await callError(limited, 'list_goals', { namespace: OTHER })).toMatch(/^forbidden/);
  });

  it('records of other namespaces, reached by id, answer exactly as ids that do not exist', async () => {
    const nowhere = '01JD3Z6Q6H8W1V8N2X4C5B7E9F';
    const same = async (tool: string, args: (id: string) => Record<string, unknown>, id: string) => {
      const refused = await callError(limited, tool, args(id));
      const absent = await callError(limited, tool, args(nowhere));
      expect(refused.replaceAll(id, 'ID'), tool).toBe(absent.replaceAll(nowhere, 'ID'));
    };
    await same('get_memory', (id) => ({ id }), foreign.memory);
    await same('get_goal', (id) => ({ goal_id: id }), foreign.goal);
    await same('remember_goal', (id) => ({ goal_id: id, status: 'abandoned' }), foreign.goal);
    await same('record_outcome', (id) => ({ goal_id: id, result: 'failure', summary: 'sabotage' }), foreign.goal);
    expect(await callOk(limited, 'forget', { ids: [foreign.memory] })).toEqual({ forgotten: [], missing: [foreign.memory] });

    const own = (await callOk(limited, 'remember', { content: 'mine to forget' })).stored[0].id as string;
    const mixed = await callOk(limited, 'get_memory', { ids: [own, foreign.memory, nowhere] });
    expect([mixed.memories.map((m: { id: string }) => m.id), mixed.missing]).toEqual([[own], [foreign.memory, nowhere]]);
    const forgotten = await callOk(limited, 'forget', { ids: [foreign.memory, own, nowhere] });
    expect(forgotten).toEqual({ forgotten: [own], missing: [foreign.memory, nowhere] });
    // The other namespace is untouched.
    expect((await callOk(linked.client, 'get_memory', { id: foreign.memory })).memories).toHaveLength(1);
    expect((await callOk(linked.client, 'get_goal', { goal_id: foreign.goal })).goal.status).toBe('active');
  });

  it('memory_stats is neither listed nor callable, and an idempotency key never replays another namespace', async () => {
    expect((await limited.listTools()).tools.map((t) => t.name)).not.toContain('memory_stats');
    expect(await callError(limited, 'memory_stats', {})).toMatch(/^forbidden: memory_stats reports on every namespace/);
    const args = { content: 'same words', idempotency_key: 'shared-key' };
    const first = (await callOk(linked.client, 'remember', { ...args, namespace: 'default' })).stored[0].id as string;
    const second = await limited.callTool({ name: 'remember', arguments: { ...args, namespace: 'default' } });
    expect(second.isError).toBe(true);
    const third = await limited.callTool({ name: 'remember', arguments: args });
    expect(JSON.stringify(third)).not.toContain(first);
  });
});
