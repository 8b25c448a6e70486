import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
let rare: string[];

beforeAll(async () => {
  linked = await linkedServer();
  for (let b = 0; b < 61; b++) {
    await callOk(linked.client, 'remember', { memories: Array.from({ length: 100 }, (_, i) => ({ content: `status report number ${b * 100 + i}` })) });
  }
  rare = (await callOk(linked.client, 'remember', { memories: [{ content: 'status of the zeppelin hangar' }, { content: 'zeppelin maintenance log' }] })).stored.map(
    (m: { id: string }) => m.id,
  );
}, 60_000);
afterAll(async () => {
  await linked.close();
});

describe('keyword search on a large store', () => {
  it('drops a word found in most records when the query also has rarer words', async () => {
    const result = await callOk(linked.client, 'search_memory', { query: 'status zeppelin', mode: 'keyword', limit: 10 });
    expect(result.hits.map((h: { id: string }) => h.id).sort()).toEqual([...rare].sort());
  });

  it('keeps common words when they are all the query has', async () => {
    const result = await callOk(linked.client, 'search_memory', { query: 'status report', mode: 'keyword', limit: 10 });
    expect(result.hits).toHaveLength(10);
  });
});
