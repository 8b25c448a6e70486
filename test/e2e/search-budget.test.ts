import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/tools/search-answer.js';
import { callError, callOk } from '../helpers/calls.js';
import { spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// An agent asks once with max_tokens and gets a context block it can use: the built server over stdio,
// with its bundled embedding model, as a client launches it.

const temp = makeTempDir('pinak-e2e-');
let server: Spawned;
let goalId: string;
const LESSON = 'Retry the payment webhook with backoff instead of failing the order';

beforeAll(async () => {
  server = await spawnServer(temp.dir);
  const memories = Array.from({ length: 25 }, (_, i) => ({
    content: `Payment webhook incident ${i}: the provider sent the order event twice within a second, the handler charged the customer again, and support refunded the duplicate by hand after the customer wrote in about it.`,
    layer: 'episodic',
    kind: 'event',
    thread_id: 'incidents',
  }));
  await callOk(server.client, 'remember', { memories });
  goalId = (await callOk(server.client, 'remember_goal', { title: 'Stop duplicate payment webhook charges' })).goal.id;
  await callOk(server.client, 'record_outcome', { goal_id: goalId, result: 'partial', summary: 'Payment webhook charges are deduplicated by event id', lessons: [LESSON] });
});
afterAll(async () => {
  await server?.close();
  temp.cleanup();
});

describe('search_memory with max_tokens over stdio', () => {
  it('packs hits, context and the linked goal into the budget, and says what it left out', async () => {
    const args = { query: 'payment webhook duplicate charge', limit: 40, context: 1 };
    const plain = await server.client.callTool({ name: 'search_memory', arguments: args });
    const plainText = (plain.content as Array<{ text: string }>)[0]!.text;
    expect(estimateTokens(plainText)).toBeGreaterThan(1000);
    expect(plain.structuredContent).not.toHaveProperty('budget');

    const small = await server.client.callTool({ name: 'search_memory', arguments: { ...args, max_tokens: 500 } });
    const text = (small.content as Array<{ text: string }>)[0]!.text;
    const { hits, budget, goals } = small.structuredContent as { hits: Array<{ id: string }>; budget: { used_tokens: number; omitted: { hits: number } }; goals: Array<{ id: string; lessons: string[] }> };
    expect(estimateTokens(text)).toBeLessThanOrEqual(500);
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(budget.used_tokens).toBe(estimateTokens(text));
    expect(text).toContain(hits[0]!.id);
    expect(text.split('\n').at(-1)).toMatch(new RegExp(`^\\(${budget.omitted.hits} more hits.* to stay within 500 tokens; ask with a larger max_tokens, or fetch by id with get_memory or get_goal\\)$`));
    expect(goals.map((g) => g.id)).toContain(goalId);

    const roomy = await server.client.callTool({ name: 'search_memory', arguments: { query: 'retry the webhook with backoff', limit: 5, max_tokens: 8000 } });
    const roomyText = (roomy.content as Array<{ text: string }>)[0]!.text;
    expect(roomyText).toContain('linked goals:');
    expect(roomyText).toContain(`- goal ${goalId} [active]`);
    expect(roomyText).toContain(`  lesson: ${LESSON}`);
  });

  it('refuses a budget out of range', async () => {
    expect(await callError(server.client, 'search_memory', { query: 'payment', max_tokens: 50 })).toMatch(/max_tokens/);
  });
});
