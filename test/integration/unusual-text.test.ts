import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { collect } from '../helpers/collect.js';

let linked: Linked;
beforeAll(async () => {
  linked = await linkedServer({ embedder: true });
});
afterAll(async () => {
  await linked.close();
});

describe('unusual but valid text', () => {
  it('round-trips NUL bytes, emoji, right-to-left and combining text unchanged', async () => {
    const texts = ['before\u0000after nulbyte', 'family 👨‍👩‍👧 emoji ❤️', 'שלום עולם مرحبا بالعالم', 'cafe\u0301 combining', 'line\r\nbreaks\ttabs'];
    const { stored } = await callOk(linked.client, 'remember', { memories: texts.map((content) => ({ content, metadata: { original: content } })) });
    const { memories } = await callOk(linked.client, 'get_memory', { ids: stored.map((m: { id: string }) => m.id) });
    expect(memories.map((m: { content: string }) => m.content)).toEqual(texts);
    expect(memories.map((m: { metadata: { original: string } }) => m.metadata.original)).toEqual(texts);
    expect((await callOk(linked.client, 'search_memory', { query: 'nulbyte', mode: 'keyword' })).hits[0].id).toBe(stored[0].id);
    expect((await callOk(linked.client, 'search_memory', { query: 'שלום', mode: 'keyword' })).hits[0].id).toBe(stored[2].id);
  });
});

describe('text that cannot be stored faithfully', () => {
  it('refuses unpaired surrogates in anything a write would store, naming the field', async () => {
    expect(await callError(linked.client, 'remember', { content: 'broken \uD800 text' })).toMatch(/content contains an unpaired UTF-16 surrogate/);
    expect(await callError(linked.client, 'remember', { content: 'ok', tags: ['fine', 'bad\uDFFF'] })).toMatch(/tags\[1\]/);
    expect(await callError(linked.client, 'remember', { content: 'ok', metadata: { note: { deep: '\uDBFF' } } })).toMatch(/metadata\.note\.deep/);
    expect(await callError(linked.client, 'remember_goal', { title: 'goal \uDC00' })).toMatch(/title/);
    expect((await callOk(linked.client, 'memory_stats')).goals_by_status).toEqual({});
  });

  it('still searches with them (they are simply not words)', async () => {
    const result = await callOk(linked.client, 'search_memory', { query: 'emoji \uD800' });
    expect(result.terms).toEqual(['emoji']);
  });
});

describe('absurdly deep arguments', () => {
  it('get a tool error (not a stack overflow) and an audit row', async () => {
    let nested: unknown = 'bottom';
    for (let i = 0; i < 3000; i++) nested = [nested];
    expect(await callError(linked.client, 'remember', { content: 'x', metadata: { nested } })).toMatch(/nested deeper than 64 levels/);
    const last = (await collect(linked.runtime.store.exportAudit())).at(-1);
    expect(last).toMatchObject({ tool: 'remember', status: 'invalid', error_code: 'invalid_input', args_bytes: -1 });
  });
});

