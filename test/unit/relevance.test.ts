import { describe, expect, it } from 'vitest';
import type { SearchHit } from '../../src/domain/search.js';
import { hitsToShow, rateHits, relevanceOf, wordsForStrong } from '../../src/memory/relevance.js';

function hit(id: string, why: Partial<SearchHit['why']>): SearchHit {
  return {
    id, type: 'memory', layer: 'semantic', kind: 'note', namespace: 'default', snippet: id, score: 1, occurred_at: '2025-01-01T00:00:00.000Z',
    tags: [], goal_id: null, superseded: false, origin: 'agent', trust: 'medium', thread: null, context: [],
    why: { keyword_rank: null, vector_rank: null, vector_similarity: null, matched_terms: [], trust: "the agent's words", ...why },
  };
}

describe('relevanceOf', () => {
  it('needs half the query words, and two of them once the query has two', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(wordsForStrong)).toEqual([1, 2, 2, 2, 3, 3, 4]);
  });

  it('rates by the words a hit holds, then by how it was found', () => {
    const terms = ['capital', 'mongolia'];
    expect(relevanceOf(hit('a', { keyword_rank: 1, matched_terms: terms }), 2)).toBe('strong');
    expect(relevanceOf(hit('b', { keyword_rank: 2, matched_terms: ['capital'] }), 2)).toBe('weak');
    expect(relevanceOf(hit('c', { keyword_rank: 3 }), 2)).toBe('context');
    expect(relevanceOf(hit('d', { vector_rank: 1, vector_similarity: 0.3 }), 2)).toBe('vector-only');
    // A hit found by meaning that holds the words is rated by the words.
    expect(relevanceOf(hit('e', { vector_rank: 2, vector_similarity: 0.3, matched_terms: terms }), 2)).toBe('strong');
    expect(relevanceOf(hit('f', {}), 0)).toBeNull();
  });

  it('rates nothing in a listing of the newest records', () => {
    expect(rateHits([hit('a', {})], [], 'recent')[0]!.relevance).toBeNull();
  });
});

describe('hitsToShow', () => {
  const rated = (hits: SearchHit[]) => rateHits(hits, ['billing', 'deploy'], 'hybrid');

  it('leaves out vector-only hits under 0.6 × the best similarity, and counts them', () => {
    const hits = rated([
      hit('strong', { keyword_rank: 1, matched_terms: ['billing', 'deploy'], vector_similarity: 0.8 }),
      hit('close', { vector_rank: 2, vector_similarity: 0.5 }),
      hit('far', { vector_rank: 3, vector_similarity: 0.47 }),
      hit('weak-far', { keyword_rank: 2, matched_terms: ['billing'], vector_similarity: 0.1 }),
    ]);
    const { shown, leftOut } = hitsToShow(hits);
    expect(shown.map((h) => h.id)).toEqual(['strong', 'close', 'weak-far']);
    expect(leftOut).toBe(1);
  });

  it('always keeps the best, also when every similarity is negative', () => {
    const hits = rated([hit('best', { vector_rank: 1, vector_similarity: -0.1 }), hit('near', { vector_rank: 2, vector_similarity: -0.13 }), hit('far', { vector_rank: 3, vector_similarity: -0.2 })]);
    expect(hitsToShow(hits).shown.map((h) => h.id)).toEqual(['best', 'near']);
  });

  it('leaves nothing out of a result without similarities', () => {
    const hits = rated([hit('a', { keyword_rank: 1, matched_terms: ['billing'] }), hit('b', { keyword_rank: 2 })]);
    expect(hitsToShow(hits)).toEqual({ shown: hits, leftOut: 0 });
  });
});
