import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
const ids: Record<string, string | undefined> = {};

async function search(query: string): Promise<string[]> {
  const { hits } = await callOk(linked.client, 'search_memory', { query, limit: 10 });
  return hits.map((h: { id: string }) => h.id);
}

/** Store one conversation session as a thread of turns; returns their ids. */
async function session(thread: string, occurredAt: string, turns: string[]): Promise<string[]> {
  const { stored } = await callOk(linked.client, 'remember', {
    memories: turns.map((content, i) => ({ content, layer: 'episodic', kind: 'turn', thread_id: thread, position: i + 1, occurred_at: occurredAt })),
  });
  return stored.map((s: { id: string }) => s.id);
}

beforeAll(async () => {
  linked = await linkedServer();
  // March: the parade talked about most, and the turns around it say so too.
  [ids.marchParade] = await session('s1', '2023-03-12T10:00:00Z', [
    'Caroline: The pride parade downtown was huge, the biggest parade yet.',
    'Melanie: A pride parade that big, wow!',
    'Caroline: Everyone at the parade was so kind.',
  ]);
  // Early July: "two weekends ago" is the weekend of 24 and 25 June.
  [, ids.juneParade] = await session('s2', '2023-07-06T18:00:00Z', [
    'Melanie: How have you been?',
    'Caroline: Great! I marched in a pride parade two weekends ago.',
    'Melanie: Good for you.',
  ]);
  // August, telling no time: it happened when it was said.
  [ids.augustParade] = await session('s3', '2023-08-20T09:00:00Z', [
    'Caroline: Pride parade with my friends, what a day.',
    'Melanie: Lovely.',
  ]);
  // The same trip talked about twice: once saying when, once at length.
  [ids.romeLong] = await session('s4', '2023-09-02T12:00:00Z', [
    'Jon: Rome, Rome, Rome: the food in Rome and the streets of Rome, I keep thinking of Rome.',
    'Gina: Rome sounds dreamy.',
  ]);
  [ids.romeWhen] = await session('s5', '2023-09-20T12:00:00Z', ['Jon: I took a short trip to Rome last week.', 'Gina: Nice!']);
  // Relative to now: cooked yesterday, or a month ago at length.
  const day = 86_400_000;
  const cooked = await callOk(linked.client, 'remember', {
    memories: [
      { content: 'Maria: I cooked soup, soup with beans, I cooked so much soup.', layer: 'episodic', kind: 'turn', occurred_at: new Date(Date.now() - 30 * day).toISOString() },
      { content: 'Maria: I cooked a soup.', layer: 'episodic', kind: 'turn', occurred_at: new Date(Date.now() - day).toISOString() },
    ],
  });
  [ids.soupOld, ids.soupYesterday] = cooked.stored.map((s: { id: string }) => s.id);
  // Memories about other things, as most are.
  const things = ['garden', 'tea', 'blue car', 'cat', 'pizza', 'lake', 'bookshelf', 'street', 'piano', 'river', 'kitchen', 'bridge'];
  await callOk(linked.client, 'remember', { memories: things.map((thing) => ({ content: `Jon: I like the ${thing}.`, layer: 'episodic', kind: 'turn' })) });
});
afterAll(async () => {
  await linked.close();
});

describe('time in questions', () => {
  it('puts first the memory about the month a question names, by when it happened or the time it tells', async () => {
    // Without a month, the parade talked about most comes first.
    expect((await search('What did Caroline do at a pride parade?'))[0]).toBe(ids.marchParade);
    expect((await search('What did Caroline do at a pride parade in June?'))[0]).toBe(ids.juneParade);
    expect((await search('What did Caroline do at a pride parade in August 2023?'))[0]).toBe(ids.augustParade);
  });

  it('understands a season a question names: summer is June to August', async () => {
    const found = await search('What did Caroline do at a pride parade during the summer?');
    expect(found.slice(0, 2).sort()).toEqual([ids.juneParade, ids.augustParade].sort());
    expect(found.indexOf(ids.marchParade!)).toBeGreaterThan(1);
  });

  it('resolves a time a question names relative to now ("yesterday") and puts first the memory of that day', async () => {
    expect((await search('What soup did Maria cook?'))[0]).toBe(ids.soupOld);
    expect((await search('What soup did Maria cook yesterday?'))[0]).toBe(ids.soupYesterday);
  });

  it('puts a memory that tells a time first for a question asking when, however much more another says of the thing', async () => {
    const plain = await search('Jon in Rome');
    expect(plain.indexOf(ids.romeLong!)).toBeLessThan(plain.indexOf(ids.romeWhen!));
    expect((await search('When was Jon in Rome?'))[0]).toBe(ids.romeWhen);
  });
});
