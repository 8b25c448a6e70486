import { describe, expect, it } from 'vitest';
import { KEYWORD_TEXT_VERSION } from '../../src/domain/keyword-text.js';
import { oldKeywordTextNotice, rewriteKeywordIndex } from '../../src/memory/keyword-rewrite.js';
import { keywordTextKey, type KeywordText, type MemoryStore } from '../../src/store/store.js';
import { createGoal, entitiesOf, filters, newMemory, remember } from './fixtures.js';
import type { Harness } from './memory-store-contract.js';

const QUERIES = [['otter'], ['river', 'otter'], ['kingfisher'], ['bank', 'mill'], ['nest'], ['heron', 'river']];

/** Every query's hits as [entity id, score], in order. */
async function answers(store: MemoryStore): Promise<Array<Array<[string, number]>>> {
  const out: Array<Array<[string, number]>> = [];
  for (const terms of QUERIES) {
    const hits = await store.searchKeyword({ terms, filters: filters({ include_superseded: true }), limit: 20 });
    const entities = await entitiesOf(store, hits);
    out.push(hits.map((hit, i) => [entities[i]!, hit.score]));
  }
  return out;
}

function expectSameAnswers(actual: Array<Array<[string, number]>>, expected: Array<Array<[string, number]>>): void {
  expect(actual.map((hits) => hits.map(([id]) => id))).toEqual(expected.map((hits) => hits.map(([id]) => id)));
  actual.forEach((hits, q) => hits.forEach(([, score], i) => expect(score, `${QUERIES[q]!.join(' ')}: hit ${i}`).toBeCloseTo(expected[q]![i]![1], 9)));
}

export function keywordRewriteContract(h: Harness): void {
  describe('writing the keyword index again', () => {
    it('indexes every record by the texts given, skips held ones, and scores as a store that never held the removed rows', async () => {
      const kept = await remember(h.store, ...['otter river bank', 'an otter by the old mill', 'heron on the river', 'kingfisher nest in the bank'].map((content) => newMemory({ content })));
      // A removed row stays in a full-text index's statistics until the index is written again from nothing.
      const [gone] = await remember(h.store, newMemory({ content: 'otter otter otter river' }));
      await h.store.deleteMemories([gone!.id]);
      const [plain, held] = await remember(h.store, newMemory({ content: 'river river' }), newMemory({ content: 'otter held for review', held: true }));
      const { goal, plan } = await createGoal(h.store, { title: 'Count the otters' }, ['Walk the river bank']);
      const step = plan!.steps[0]!;

      // The new texts: the first four memories gain a keyword; the others keep theirs.
      const texts = new Map<string, KeywordText>([
        ...kept.map((m): [string, KeywordText] => [keywordTextKey('memory', m.id), { text: m.content, keywords: 'nest' }]),
        [keywordTextKey('memory', plain!.id), { text: plain!.content }],
        [keywordTextKey('goal', goal.id), { text: goal.title }],
        [keywordTextKey('step', step.id), { text: step.title }],
      ]);
      // A store given the same records once, with the same texts: what the rewritten one must answer.
      const fresh = await h.openFresh();
      await fresh.store.insertMemories([...kept, plain!, held!].map((m) => ({ memory: m, indexed: { text: m.content, vector: null, ...texts.get(keywordTextKey('memory', m.id)) } })));
      await fresh.store.createGoal(goal, { text: goal.title, vector: null }, plan);
      const expected = await answers(fresh.store);
      expect(expected.filter((hits) => hits.length > 0).length).toBeGreaterThanOrEqual(5);
      // Searched once before (row lengths read, postings seen), answering otherwise.
      expect(await answers(h.store)).not.toEqual(expected);

      expect(await h.store.keywordTextVersion()).toBeNull();
      const written = await h.store.rewriteKeywordIndex(texts, await h.store.keywordIndexMark(), 7);
      // Five memories, the goal and its step; not the held memory, not the removed one.
      expect(written).toBe(7);
      expect(await h.store.keywordTextVersion()).toBe(7);
      const nest = await entitiesOf(h.store, await h.store.searchKeyword({ terms: ['nest'], filters: filters(), limit: 20 }));
      expect(nest.sort()).toEqual(kept.map((m) => m.id).sort());
      expect((await h.store.getMemories([held!.id]))[0]!.held).toBe(true);
      expect(await h.store.searchKeyword({ terms: ['review'], filters: filters({ include_superseded: true }), limit: 20 })).toEqual([]);
      expectSameAnswers(await answers(h.store), expected);
    });

    it('changes nothing when a record was written after the mark was taken, or a record has no text', async () => {
      const [a, b] = await remember(h.store, newMemory({ content: 'otter river' }), newMemory({ content: 'heron river' }));
      const texts = new Map<string, KeywordText>([
        [keywordTextKey('memory', a!.id), { text: a!.content, keywords: 'kingfisher' }],
        [keywordTextKey('memory', b!.id), { text: b!.content, keywords: 'kingfisher' }],
      ]);
      const before = await answers(h.store);

      const mark = await h.store.keywordIndexMark();
      await remember(h.store, newMemory({ content: 'otter nest' }));
      expect(await h.store.rewriteKeywordIndex(texts, mark, 2)).toBeNull();
      expect(await h.store.searchKeyword({ terms: ['kingfisher'], filters: filters(), limit: 20 })).toEqual([]);

      // The memory stored since has no text in `texts`: the whole rewrite fails and is undone.
      await expect(h.store.rewriteKeywordIndex(texts, await h.store.keywordIndexMark(), 2)).rejects.toThrow(/no keyword text was given for memory/);
      expect(await h.store.keywordTextVersion()).toBeNull();
      expect(await h.store.searchKeyword({ terms: ['kingfisher'], filters: filters(), limit: 20 })).toEqual([]);
      const after = await answers(h.store);
      expect(after[0]!.length).toBe(before[0]!.length + 1);
    });

    it('a store holding no record takes the version it is given, once; a store holding records keeps not knowing', async () => {
      expect(await h.store.keywordTextVersion()).toBeNull();
      await h.store.adoptKeywordTextVersion(4);
      await h.store.adoptKeywordTextVersion(5);
      expect(await h.store.keywordTextVersion()).toBe(4);
      // Another process opening the same store sees it.
      expect(await (await h.openShared()).store.keywordTextVersion()).toBe(4);

      const filled = await h.openFresh();
      await remember(filled.store, newMemory({ content: 'stored before versions were kept' }));
      await filled.store.adoptKeywordTextVersion(4);
      expect(await filled.store.keywordTextVersion()).toBeNull();
    });

    it('rewriteKeywordIndex (memory/keyword-rewrite.ts) gives records stored without them the day terms and goal titles this version indexes', async () => {
      const { goal } = await createGoal(h.store, { title: 'Sell the sailboat' });
      // Stored as an older version would: the text alone, no dates, no goal title.
      const [dated, served] = await remember(
        h.store,
        newMemory({ content: 'I donated my old car to a shelter yesterday', occurred_at: '2023-05-08T10:00:00.000Z', created_at: '2023-06-01T00:00:00.000Z' }),
        newMemory({ content: 'Listed it on the harbour board', goal_id: goal.id }),
      );
      const day = (await h.store.searchKeyword({ terms: ['ymd20230507'], filters: filters(), limit: 10 })).length;
      const sailboat = (await h.store.searchKeyword({ terms: ['sailboat'], filters: filters(), limit: 10 })).length;
      expect([day, sailboat]).toEqual([0, 1]);

      expect(await oldKeywordTextNotice(h.store)).toBe(
        `the keyword index was written by a version that did not record which (this is version ${KEYWORD_TEXT_VERSION}): records stored before are not found by the dates they mean until \`pinak-memory reindex --keywords\` indexes them again`,
      );
      expect(await rewriteKeywordIndex(h.store)).toBe(3);
      expect(await oldKeywordTextNotice(h.store)).toBeNull();
      // "yesterday" on 8 May 2023 is 7 May 2023, as one term and in words; the memory serving the goal is found by its title.
      expect(await entitiesOf(h.store, await h.store.searchKeyword({ terms: ['ymd20230507'], filters: filters(), limit: 10 }))).toEqual([dated!.id]);
      expect((await entitiesOf(h.store, await h.store.searchKeyword({ terms: ['sailboat'], filters: filters(), limit: 10 }))).sort()).toEqual([goal.id, served!.id].sort());
    });
  });
}
