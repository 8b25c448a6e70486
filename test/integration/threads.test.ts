import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
const chat: string[] = [];

beforeAll(async () => {
  linked = await linkedServer({ embedder: true });
  const turns = [
    'Ana: did you ever go back to that bakery?',
    'Ben: which one do you mean?',
    'Ana: the one near the harbour with the blue door',
    'Ben: yes, last week, their cardamom buns are still the best',
    'Ana: great, let us go on Saturday',
  ];
  chat.push(...(await callOk(linked.client, 'remember', { memories: turns.map((content) => ({ content, layer: 'episodic', kind: 'turn', thread_id: 'chat-1' })) })).stored.map((m: { id: string }) => m.id));
});
afterAll(async () => {
  await linked.close();
});

describe('threads', () => {
  it('number memories in insertion order within a thread, and accept explicit positions', async () => {
    const { memories } = await callOk(linked.client, 'get_memory', { ids: chat.slice(0, 3) });
    expect(memories.map((m: { thread_id: string; thread_position: number }) => [m.thread_id, m.thread_position])).toEqual([
      ['chat-1', 1],
      ['chat-1', 2],
      ['chat-1', 3],
    ]);
    const between = (await callOk(linked.client, 'remember', { content: 'Ben: (laughs)', thread_id: 'chat-1', position: 3.5 })).stored[0].id;
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'blue door harbour', mode: 'keyword', context: 1, limit: 1 });
    expect(hits[0].id).toBe(chat[2]);
    expect(hits[0].thread).toEqual({ id: 'chat-1', position: 3 });
    expect(hits[0].context.map((c: { id: string; offset: number }) => [c.id, c.offset])).toEqual([
      [chat[1], -1],
      [between, 1],
    ]);
    await callOk(linked.client, 'forget', { ids: [between] });
  });

  it('finds the answer next to the match: a turn is scored with its neighbours', async () => {
    // "bakery" is only in the question; the answer (cardamom buns) is two turns later.
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'what is good at the bakery', mode: 'keyword', limit: 5 });
    const ids = hits.map((h: { id: string }) => h.id);
    expect(ids[0]).toBe(chat[0]);
    expect(ids).toContain(chat[1]);
    expect(ids).toContain(chat[2]);
  });

  it('returns context at the edges of a thread without inventing neighbours, each memory once', async () => {
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'bakery saturday', mode: 'keyword', context: 2, limit: 2 });
    const first = hits.find((h: { id: string }) => h.id === chat[0]);
    expect(first.context.every((c: { offset: number }) => c.offset > 0)).toBe(true);
    const all = hits.flatMap((h: { id: string; context: Array<{ id: string }> }) => [h.id, ...h.context.map((c) => c.id)]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('leaves standalone memories scored as before', async () => {
    const alone = (await callOk(linked.client, 'remember', { content: 'The bakery opens at seven' })).stored[0].id;
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'bakery opens seven', mode: 'keyword', context: 2 });
    expect(hits[0]).toMatchObject({ id: alone, thread: null, context: [] });
  });

  it('keeps threads apart by namespace, and refuses a position without a thread', async () => {
    const other = (await callOk(linked.client, 'remember', { content: 'Ana: unrelated chat in another project', thread_id: 'chat-1', namespace: 'elsewhere' })).stored[0].id;
    expect((await callOk(linked.client, 'get_memory', { id: other })).memories[0].thread_position).toBe(1);
    expect(await callError(linked.client, 'remember', { content: 'x', position: 4 })).toMatch(/position needs thread_id/);
  });
});

describe('dates in words', () => {
  it('lets "in May 2023" find memories that happened then, and only those', async () => {
    const [may, june] = (await callOk(linked.client, 'remember', {
      memories: [
        { content: 'We met at the corner cafe', layer: 'episodic', occurred_at: '2023-05-08T13:56:00Z' },
        { content: 'We met at the corner cafe again', layer: 'episodic', occurred_at: '2023-06-20T09:00:00Z' },
      ],
    })).stored.map((m: { id: string }) => m.id);
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'cafe in May 2023', mode: 'keyword', limit: 2 });
    expect(hits[0].id).toBe(may);
    expect(hits.map((h: { id: string }) => h.id)).toContain(june);
    expect(hits[0].snippet).not.toMatch(/May/);
  });
});


describe('answers after matching questions', () => {
  it('lift the reply to a matching question close to the question, and pass nothing from statements', async () => {
    const talk = (thread: string, lines: string[]) =>
      callOk(linked.client, 'remember', { memories: lines.map((content) => ({ content, layer: 'episodic', namespace: 'replies', thread_id: thread })) });
    const asked = (await talk('q', ['Ana: morning!', 'Ben: what gave you the idea for the mosaic colours?', 'Ana: my grandmother kept jars of sea glass', 'Ben: lovely'])).stored.map(
      (m: { id: string }) => m.id,
    );
    const told = (await talk('s', ['Ana: morning!', 'Ben: the mosaic colours gave me an idea.', 'Ana: my grandmother kept jars of sea glass', 'Ben: lovely'])).stored.map(
      (m: { id: string }) => m.id,
    );
    const scores = async (thread: string[]) => {
      const { hits } = await callOk(linked.client, 'search_memory', { query: 'idea for the mosaic colours', namespace: 'replies', mode: 'keyword', limit: 10 });
      const score = (id: string): number => hits.find((h: { id: string }) => h.id === id)?.score ?? 0;
      return { question: score(thread[1]!), reply: score(thread[2]!) };
    };
    // The reply shares no word with the query: windows lift it, and the question's own score (passed on whole, the
    // default share of 1) brings it close to the question (which also has the window before it).
    const afterQuestion = await scores(asked);
    expect(afterQuestion.reply).toBeGreaterThan(afterQuestion.question * 0.85);
    // The same lines with a statement instead of a question: the reply gets only its windows' lift, far below.
    const afterStatement = await scores(told);
    expect(afterStatement.reply).toBeGreaterThan(0);
    expect(afterStatement.reply).toBeLessThan(afterStatement.question * 0.5);
    expect(afterQuestion.reply).toBeGreaterThan(afterStatement.reply * 2);
  });
});

describe('speaker boost', () => {
  it('ranks first the memory whose speaker (or author) the query names', async () => {
    // The same words, so without the boost the two tie and keep one order for both questions.
    const said = (speaker: Record<string, unknown>) => ({ content: 'the night ferry to the island was cancelled', layer: 'episodic', namespace: 'speakers', metadata: speaker });
    const [ana, ben] = (await callOk(linked.client, 'remember', { memories: [said({ speaker: 'Ana Lima' }), said({ author: 'Ben' })] })).stored.map((m: { id: string }) => m.id);
    const first = async (query: string) => (await callOk(linked.client, 'search_memory', { query, namespace: 'speakers', mode: 'keyword', limit: 2 })).hits[0].id;
    expect(await first('what did Ben say about the night ferry')).toBe(ben);
    expect(await first('what did Ana say about the night ferry')).toBe(ana);
    expect(await first('Lima: ferry cancelled?')).toBe(ana);
  });

  it('ignores a speaker that is not text', async () => {
    const odd = (await callOk(linked.client, 'remember', { content: 'a ferry timetable for 42', namespace: 'speakers-odd', metadata: { speaker: 42, author: { name: 'x' } } })).stored[0].id;
    const { hits } = await callOk(linked.client, 'search_memory', { query: 'ferry 42', namespace: 'speakers-odd', mode: 'keyword' });
    expect(hits.map((h: { id: string }) => h.id)).toEqual([odd]);
  });
});
