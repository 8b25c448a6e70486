import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { KeywordHit, StoreFilters } from '../../src/store/store.js';
import { newMemory } from '../contract/fixtures.js';
import { freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { seededRandom } from '../helpers/sentences.js';

/**
 * Keyword search in a small namespace is scored doc by doc (each doc's
 * postings by the primary key) instead of term by term: a plan, never an
 * answer. Two stores on one schema, one never taking that plan, must give
 * the same hits with the same scores for every query.
 */
let database: FreshDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

const WORDS = ['the', 'in', 'harbour', 'ferry', 'lantern', 'copper', 'gull', 'winter', 'kiln', 'dawn', 'market', 'bridge'];

const open = (url: string, smallScopeDocs?: number): Promise<PostgresStore> =>
  PostgresStore.open({ url, schema: 'small_scope', size: 2, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, idleInTransactionTimeoutMs: 60_000, smallScopeDocs });

const inNamespace = (namespace: string): StoreFilters => ({ namespace, time_field: 'occurred_at', include_superseded: false });

describe('PostgreSQL keyword search in a small namespace', () => {
  it('scores doc by doc exactly as term by term: the same hits, scores and matched counts, common words included', async () => {
    database = await freshDatabase();
    const termByTerm = await open(database.url, 0);
    const docByDoc = await open(database.url);
    try {
      const random = seededRandom(7);
      const sentence = (): string => Array.from({ length: 4 + Math.floor(random() * 8) }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(' ');
      // A large namespace, a small one, and a superseded memory in the small one, which neither plan may return.
      await termByTerm.insertMemories(Array.from({ length: 400 }, () => newMemory({ content: sentence(), namespace: 'big' })));
      await termByTerm.insertMemories(Array.from({ length: 30 }, () => newMemory({ content: sentence(), namespace: 'small' })));
      await termByTerm.insertMemories([newMemory({ content: 'the harbour ferry superseded', namespace: 'small', superseded_by: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' })]);
      // The doc-by-doc store learns the namespaces' sizes in the background after its first search.
      await docByDoc.searchKeyword({ terms: ['the'], filters: inNamespace('small'), limit: 5 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const queries = [['the'], ['the', 'in'], ['harbour', 'ferry'], ['kiln', 'dawn', 'the'], ['copper'], ['absent'], ['bridge', 'bridge', 'gull']];
      const compared: Array<{ q: string[]; hits: number }> = [];
      for (const terms of queries) {
        for (const namespace of ['small', 'big']) {
          const expected = await termByTerm.searchKeyword({ terms, filters: inNamespace(namespace), limit: 20 });
          const got = await docByDoc.searchKeyword({ terms, filters: inNamespace(namespace), limit: 20 });
          const shape = (hits: KeywordHit[]) => hits.map((hit) => ({ doc_id: hit.doc_id, matched: hit.matched }));
          expect(shape(got), `${namespace}: ${terms.join(' ')}`).toEqual(shape(expected));
          got.forEach((hit, i) => expect(hit.score, `${namespace}: ${terms.join(' ')}`).toBeCloseTo(expected[i]!.score, 12));
          if (namespace === 'small') compared.push({ q: terms, hits: got.length });
        }
      }
      // The comparison saw real answers in the small namespace, not only empty ones.
      expect(compared.filter((c) => c.hits > 0).length).toBeGreaterThanOrEqual(5);
    } finally {
      await termByTerm.close();
      await docByDoc.close();
    }
  });
});
