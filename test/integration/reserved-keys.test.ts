import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRecords } from '../../src/memory/import-export.js';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

// Arguments are built with JSON.parse, as every transport builds them: "__proto__" is then an own key, as a client sent it.
const json = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

let linked: Linked;
let client: Client;
let goalId = '';

beforeAll(async () => {
  linked = await linkedServer();
  client = linked.client;
  goalId = (await callOk(client, 'remember_goal', { title: 'Ship the billing export' })).goal.id;
});

afterAll(async () => linked?.close());

const totals = async (): Promise<[number, number]> => {
  const stats = await callOk(client, 'memory_stats');
  return [stats.memories_total, stats.outcomes];
};

describe('reserved keys in free JSON fields', () => {
  it('are refused at any depth with an error naming the path, and nothing is stored', async () => {
    const before = await totals();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['remember', json('{"content":"a","metadata":{"a":{"__proto__":{"isAdmin":true}}}}'), 'metadata.a.__proto__'],
      ['remember', json('{"content":"a","metadata":{"__proto__":{"polluted":1}}}'), 'metadata.__proto__'],
      ['remember', { content: 'a', metadata: { constructor: { prototype: { polluted: 1 } } } }, 'metadata.constructor'],
      ['remember', { content: 'a', metadata: { list: [1, { prototype: 2 }] } }, 'metadata.list[1].prototype'],
      ['remember', json('{"memories":[{"content":"fine"},{"content":"b","metadata":{"x":[{"__proto__":null}]}}]}'), 'memories[1].metadata.x[0].__proto__'],
      ['remember_goal', json('{"title":"t","metadata":{"__proto__":{"a":1}}}'), 'metadata.__proto__'],
      ['remember_goal', json(`{"goal_id":"${goalId}","metadata":{"deep":{"constructor":1}}}`), 'metadata.deep.constructor'],
      ['record_outcome', json(`{"goal_id":"${goalId}","result":"success","summary":"done","metrics":{"run":{"__proto__":{"rows":1}}}}`), 'metrics.run.__proto__'],
    ];
    for (const [tool, args, path] of cases) {
      const key = path.slice(path.lastIndexOf('.') + 1);
      expect(await callError(client, tool, args), path).toBe(`invalid arguments for ${tool}: ${path}: the key "${key}" is reserved and cannot be stored; rename it`);
    }
    expect(await totals()).toEqual(before);
    const goal = (await callOk(client, 'get_goal', { goal_id: goalId })).goal;
    expect([goal.metadata, goal.status]).toEqual([{}, 'active']);
  });

  it('leave keys that only look alike stored exactly as sent', async () => {
    const metadata = json('{"proto":1,"__proto":2,"Constructor":3,"prototypes":[{"_constructor":"x"}],"nested":{"__Proto__":{"a":null}}}');
    const id = (await callOk(client, 'remember', { content: 'look-alike keys', metadata })).stored[0].id as string;
    expect((await callOk(client, 'get_memory', { ids: [id] })).memories[0].metadata).toEqual(metadata);
  });

  it('are refused in imported lines too, each reported with its line number', async () => {
    const before = await totals();
    async function* lines(): AsyncGenerator<string> {
      yield JSON.stringify({ content: 'imported without trouble' });
      yield '{"content":"imported with a trap","metadata":{"a":{"__proto__":{"x":1}}}}';
    }
    const { progress, problems } = await importRecords(linked.runtime.memory, { clientName: 'test' }, lines());
    expect(progress).toMatchObject({ imported: 1, failed: 1 });
    expect(problems).toEqual([{ line: 2, message: 'metadata.a.__proto__: the key "__proto__" is reserved and cannot be stored; rename it' }]);
    expect((await totals())[0]).toBe(before[0] + 1);
  });
});
