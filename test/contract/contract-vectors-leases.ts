import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { MemoryStore } from '../../src/store/store.js';
import { docIdsOf, float32Bytes, goalRecord, indexed, newMemory, planRecord, remember, stepRecord, vector } from './fixtures.js';
import type { Harness } from './memory-store-contract.js';

const M1 = 'model-one/4/fp1';
const M2 = 'model-two/4/fp2';

/** Vectors of a model as [doc id, bytes] pairs in doc order, for comparing. */
async function vectorsIn(store: MemoryStore, docs: number[], modelKey: string): Promise<Array<[number, number[]]>> {
  const rows = await store.vectorsOf(docs, modelKey);
  return rows.map((row): [number, number[]] => [row.doc_id, [...row.vector]]).sort((a, b) => a[0] - b[0]);
}

const bytes = (...values: number[]): number[] => [...float32Bytes(Float32Array.from(values))];

export function vectorsAndLeasesContract(h: Harness): void {
  describe('vectors', () => {
    it('registerModel is true the first time a model key is seen only', async () => {
      const model = { key: M1, id: 'model-one', dimension: 4, fingerprint: 'fp1' };
      expect(await h.store.registerModel(model)).toBe(true);
      expect(await h.store.registerModel(model)).toBe(false);
      expect(await h.store.registerModel({ ...model, dimension: 8, fingerprint: 'other' })).toBe(false);
      expect(await h.store.registerModel({ key: M2, id: 'model-two', dimension: 4, fingerprint: 'fp2' })).toBe(true);
    });

    it('a vector given with a record is stored with it: vectorsOf returns its float32 bytes for that model only', async () => {
      const goal = goalRecord({ title: 'Vectors everywhere' });
      const plan = planRecord(1, [stepRecord(1, 'a step with a vector', null, vector(M1, 0, 0, 1, 0)), stepRecord(2, 'a step without one')]);
      await h.store.createGoal(goal, indexed(goal.title, { vector: vector(M1, 0.5, -0.5, 0, 1) }), plan);
      const [withVector, without, other] = await remember(
        h.store,
        newMemory({ content: 'with a vector' }, { vector: vector(M1, 1, 2, 3, 4) }),
        newMemory({ content: 'without a vector' }),
        newMemory({ content: 'another model' }, { vector: vector(M2, 9, 8, 7, 6) }),
      );
      const docs = await docIdsOf(h.store, withVector!.id, without!.id, other!.id, goal.id, plan.steps[0]!.id, plan.steps[1]!.id);
      const [memDoc, , otherDoc, goalDoc, stepDoc] = docs;
      expect(await vectorsIn(h.store, [...docs, 424_242], M1)).toEqual(
        [
          [memDoc!, bytes(1, 2, 3, 4)],
          [goalDoc!, bytes(0.5, -0.5, 0, 1)],
          [stepDoc!, bytes(0, 0, 1, 0)],
        ].sort((a, b) => (a[0] as number) - (b[0] as number)),
      );
      expect(await vectorsIn(h.store, docs, M2)).toEqual([[otherDoc!, bytes(9, 8, 7, 6)]]);
      expect(await vectorsIn(h.store, [memDoc!], 'unknown-model')).toEqual([]);
      expect(await h.store.vectorsOf([], M1)).toEqual([]);
    });

    it('setVectors stores vectors after the fact, replaces earlier ones, and skips docs that are gone', async () => {
      const [a, b, c] = await remember(h.store, newMemory({ content: 'a' }), newMemory({ content: 'b' }, { vector: vector(M1, 1, 1, 1, 1) }), newMemory({ content: 'c' }));
      const [docA, docB, docC] = await docIdsOf(h.store, a!.id, b!.id, c!.id);
      await h.store.deleteMemories([c!.id]);
      await h.store.setVectors([
        { doc_id: docA!, vector: vector(M1, 0.25, 0.5, 0.75, 1) },
        { doc_id: docB!, vector: vector(M1, -1, -2, -3, -4) },
        { doc_id: docC!, vector: vector(M1, 5, 5, 5, 5) },
        { doc_id: 919_191, vector: vector(M1, 6, 6, 6, 6) },
      ]);
      expect(await vectorsIn(h.store, [docA!, docB!, docC!, 919_191], M1)).toEqual([
        [docA!, bytes(0.25, 0.5, 0.75, 1)],
        [docB!, bytes(-1, -2, -3, -4)],
      ]);
      expect(await h.store.embeddingProgress(M1)).toEqual({ docs: 2, embedded: 2 });
      await h.store.setVectors([]);
    });

    it('docsWithoutVector lists records with no vector of the model, oldest first, with the text to embed, a page at a time after a cursor', async () => {
      const goal = goalRecord({ title: 'Sail to Skye', description: 'in June' });
      const plan = planRecord(1, [stepRecord(1, 'Check the tides', 'at Mallaig'), stepRecord(2, 'Pack')]);
      await h.store.createGoal(goal, indexed(goal.title), plan);
      const [linked, plain, embedded, empty, elsewhere, old] = await remember(
        h.store,
        newMemory({ content: 'the ferry is full', goal_id: goal.id }, { text: 'the ferry is full\nSail to Skye' }),
        newMemory({ content: 'bring a coat' }),
        newMemory({ content: 'has one' }, { vector: vector(M1, 1, 0, 0, 0) }),
        newMemory({ content: 'nothing to embed' }, { vector: { modelKey: M1, values: new Float32Array(0) } }),
        newMemory({ content: 'other model only' }, { vector: vector(M2, 0, 1, 0, 0) }),
        newMemory({ content: 'soon superseded' }),
      );
      const [newer] = await remember(h.store, newMemory({ content: 'the correction', supersedes: old!.id }));
      const [goalDoc, step1, step2, linkedDoc, plainDoc, , emptyDoc, elsewhereDoc, oldDoc, newerDoc] = await docIdsOf(
        h.store,
        goal.id,
        plan.steps[0]!.id,
        plan.steps[1]!.id,
        linked!.id,
        plain!.id,
        embedded!.id,
        empty!.id,
        elsewhere!.id,
        old!.id,
        newer!.id,
      );
      const expected = [
        { doc_id: goalDoc!, text: 'Sail to Skye\nin June' },
        { doc_id: step1!, text: 'Check the tides\nat Mallaig' },
        { doc_id: step2!, text: 'Pack' },
        { doc_id: linkedDoc!, text: 'the ferry is full\nSail to Skye' },
        { doc_id: plainDoc!, text: 'bring a coat' },
        { doc_id: elsewhereDoc!, text: 'other model only' },
        { doc_id: oldDoc!, text: 'soon superseded' },
        { doc_id: newerDoc!, text: 'the correction' },
      ];
      expect(await h.store.docsWithoutVector(M1, 100)).toEqual(expected);
      const first = await h.store.docsWithoutVector(M1, 3);
      expect(first).toEqual(expected.slice(0, 3));
      const second = await h.store.docsWithoutVector(M1, 3, first.at(-1)!.doc_id);
      expect(second).toEqual(expected.slice(3, 6));
      expect(await h.store.docsWithoutVector(M1, 3, second.at(-1)!.doc_id)).toEqual(expected.slice(6));
      expect(await h.store.docsWithoutVector(M1, 3, expected.at(-1)!.doc_id)).toEqual([]);
      // An empty vector (the model found nothing to embed) counts as embedded.
      expect((await h.store.docsWithoutVector(M1, 100)).map((d) => d.doc_id)).not.toContain(emptyDoc);
      for (const row of await h.store.vectorsOf([emptyDoc!], M1)) expect(row.vector.byteLength).toBe(0);
    });

    it('embeddingProgress counts every record (goals, steps and hidden ones too) and those with a vector of the model', async () => {
      expect(await h.store.embeddingProgress(M1)).toEqual({ docs: 0, embedded: 0 });
      const goal = goalRecord({ title: 'count me' });
      await h.store.createGoal(goal, indexed(goal.title, { vector: vector(M1, 1, 0, 0, 0) }), planRecord(1, [stepRecord(1, 'and me')]));
      const [a, b] = await remember(
        h.store,
        newMemory({ content: 'a' }, { vector: vector(M1, 0, 1, 0, 0) }),
        newMemory({ content: 'b' }, { vector: vector(M2, 0, 0, 1, 0) }),
        newMemory({ content: 'c' }, { vector: { modelKey: M1, values: new Float32Array(0) } }),
      );
      await remember(h.store, newMemory({ content: 'd', supersedes: a!.id }));
      expect(await h.store.embeddingProgress(M1)).toEqual({ docs: 6, embedded: 3 });
      expect(await h.store.embeddingProgress(M2)).toEqual({ docs: 6, embedded: 1 });
      await h.store.deleteMemories([a!.id, b!.id]);
      expect(await h.store.embeddingProgress(M1)).toEqual({ docs: 4, embedded: 2 });
      expect(await h.store.embeddingProgress(M2)).toEqual({ docs: 4, embedded: 0 });
      const missing = await h.store.docsWithoutVector(M1, 100);
      await h.store.setVectors(missing.map((d) => ({ doc_id: d.doc_id, vector: vector(M1, 1, 1, 1, 1) })));
      expect(await h.store.embeddingProgress(M1)).toEqual({ docs: 4, embedded: 4 });
      expect(await h.store.docsWithoutVector(M1, 100)).toEqual([]);
    });
  });

  describe('leases', () => {
    it('a lease is held by one process at a time: its holder renews it, and release or expiry lets another take it', async () => {
      const other = await h.otherProcess();
      expect(await h.store.acquireLease('snapshot', 30_000)).toBe(true);
      expect(await h.store.acquireLease('snapshot', 30_000)).toBe(true);
      expect(await other.acquireLease('snapshot', 30_000)).toBe(false);
      // Releasing a lease one does not hold changes nothing.
      await other.releaseLease('snapshot');
      expect(await other.acquireLease('snapshot', 30_000)).toBe(false);
      // Leases are named: another name is free.
      expect(await other.acquireLease('reembed', 30_000)).toBe(true);
      expect(await h.store.acquireLease('reembed', 30_000)).toBe(false);

      await h.store.releaseLease('snapshot');
      expect(await other.acquireLease('snapshot', 400)).toBe(true);
      expect(await h.store.acquireLease('snapshot', 30_000)).toBe(false);
      await sleep(700);
      expect(await h.store.acquireLease('snapshot', 30_000)).toBe(true);
      expect(await other.acquireLease('snapshot', 30_000)).toBe(false);

      await other.releaseLease('reembed');
      expect(await h.store.acquireLease('reembed', 30_000)).toBe(true);
      await h.store.releaseLease('unknown-lease');
    });
  });
}
