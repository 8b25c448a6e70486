import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { importRecords } from '../../src/memory/import-export.js';

let linked: Linked;
const ids: Record<string, string> = {};

async function search(query: string): Promise<{ ids: string[]; terms: string[] }> {
  const { hits, terms } = await callOk(linked.client, 'search_memory', { query, limit: 5 });
  return { ids: hits.map((h: { id: string }) => h.id), terms };
}

beforeAll(async () => {
  linked = await linkedServer();
  const { stored } = await callOk(linked.client, 'remember', {
    memories: [
      // Saturday 20 May 2023: "last Friday" is 19 May 2023.
      { content: "John: Here's a pic from last Friday with some veterans who are excited about the project.", layer: 'episodic', kind: 'turn', occurred_at: '2023-05-20T19:38:00Z' },
      { content: 'John: The veterans from the project came over for dinner.', layer: 'episodic', kind: 'turn', occurred_at: '2023-06-02T18:00:00Z' },
      { content: 'John: I talked to some veterans about the project.', layer: 'episodic', kind: 'turn', occurred_at: '2023-05-27T18:00:00Z' },
      // Long ago: "yesterday" is 1 March 2019, not a day near now.
      { content: 'Maria: I sold my old bike yesterday.', layer: 'episodic', kind: 'turn', occurred_at: '2019-03-02T10:00:00Z' },
      // Shorter, the same month, and telling a time too: only the resolved day sets the one above apart.
      { content: 'Maria: Red bike, 2018.', layer: 'episodic', kind: 'turn', occurred_at: '2019-03-09T10:00:00Z' },
      // A plan: "next month" from 15 December 2023 is January 2024.
      { content: 'Nate: I start my new job next month.', layer: 'episodic', kind: 'turn', occurred_at: '2023-12-15T10:00:00Z' },
      { content: 'Nate: New job, 2023.', layer: 'episodic', kind: 'turn', occurred_at: '2024-02-10T10:00:00Z' },
      // Only one of these says when.
      { content: 'Maria: I love the gym and the people there.', layer: 'episodic', kind: 'turn' },
      { content: 'Maria: I went to the gym yesterday.', layer: 'episodic', kind: 'turn' },
    ],
  });
  ['veteransFriday', 'veteransDinner', 'veteransTalk', 'bikeSold', 'bikeRed', 'jobNextMonth', 'jobFun', 'gymLove', 'gymYesterday'].forEach((name, i) => (ids[name] = stored[i].id));
  // Memories that tell no time, as most do.
  const things = ['garden', 'tea', 'blue car', 'cat', 'pizza', 'lake', 'bookshelf', 'street', 'piano', 'river', 'kitchen', 'bridge', 'guitar', 'forest', 'train', 'museum', 'beach', 'market', 'castle', 'harbour'];
  await callOk(linked.client, 'remember', { memories: things.map((thing) => ({ content: `Jon: I like the ${thing}.`, layer: 'episodic', kind: 'turn' })) });
});
afterAll(async () => {
  await linked.close();
});

describe('dates understood in search', () => {
  it('finds a turn that said "last Friday" by the date it meant, in any common spelling of that date', async () => {
    for (const query of ['What did John do with veterans on May 19, 2023?', 'veterans on 19 May 2023', 'veterans 19th of May, 2023']) {
      const { ids: found, terms } = await search(query);
      expect(found[0], query).toBe(ids.veteransFriday);
      // The index's own terms for days and times are not shown as the query's terms.
      expect(terms.some((term) => term.startsWith('ymd') || term === 'whentold'), query).toBe(false);
    }
  });

  it('resolves against when the memory happened, however long ago', async () => {
    expect((await search('What did Maria sell on 1 March 2019?')).ids[0]).toBe(ids.bikeSold);
    expect((await search('old bike March 1, 2019')).ids[0]).toBe(ids.bikeSold);
  });

  it('resolves plans forwards: "next month" is indexed as the month it names', async () => {
    expect((await search('new job January 2024')).ids[0]).toBe(ids.jobNextMonth);
  });

  it('puts a memory that says when first for a question asking when', async () => {
    // Without the question asking when, the shorter memory ranks first on the shared words.
    const plain = (await search('Maria gym')).ids;
    expect(plain.indexOf(ids.gymLove!)).toBeLessThan(plain.indexOf(ids.gymYesterday!));

    const when = (await search('When did Maria go to the gym?')).ids;
    expect(when.indexOf(ids.gymYesterday!)).toBeGreaterThanOrEqual(0);
    expect(when.indexOf(ids.gymYesterday!)).toBeLessThan(when.indexOf(ids.gymLove!));
  });

  it('keeps the memory stored as told: the resolved dates are only in the index', async () => {
    const { memories } = await callOk(linked.client, 'get_memory', { id: ids.veteransFriday });
    expect(memories[0].content).toBe("John: Here's a pic from last Friday with some veterans who are excited about the project.");
  });
});

describe('dates understood in restored memories', () => {
  it('resolves the relative dates of memories restored from an export against their occurred_at', async () => {
    const target = await linkedServer();
    try {
      const memory = (id: string, content: string, occurredAt: string) => ({
        type: 'memory', id, layer: 'episodic', kind: 'turn', content, tags: [], metadata: {}, importance: 0.5, namespace: 'default', source: null, goal_id: null,
        occurred_at: occurredAt, created_at: '2026-01-05T10:00:00.000Z', updated_at: '2026-01-05T10:00:00.000Z', supersedes: null, superseded_by: null, thread_id: null, thread_position: null,
      });
      async function* lines(): AsyncGenerator<string> {
        yield JSON.stringify(memory('01HZ0000000000000000000001', 'Joanna: I watched the whole trilogy last night!', '2022-05-02T11:54:00.000Z'));
        yield JSON.stringify(memory('01HZ0000000000000000000002', 'Joanna: I watched a film in 2021.', '2022-05-16T11:54:00.000Z'));
        yield JSON.stringify(memory('01HZ0000000000000000000003', 'Joanna: I watched the news today.', '2022-05-09T11:54:00.000Z'));
      }
      const { progress, problems } = await importRecords(target.runtime.memory, { clientName: 'test' }, lines());
      expect(problems).toEqual([]);
      expect(progress.memories).toBe(3);
      const { hits } = await callOk(target.client, 'search_memory', { query: 'What did Joanna watch on 1 May, 2022?', limit: 3 });
      expect(hits[0].id).toBe('01HZ0000000000000000000001');
    } finally {
      await target.close();
    }
  });
});
