import { describe, expect, it } from 'vitest';
import { MAX_QUERY_TERMS, queryTerms, words } from '../../src/memory/query-terms.js';
import { toFtsMatch } from '../../src/store/sqlite/fts-match.js';

describe('queryTerms', () => {
  it('drops stopwords and keeps content words in order, once each', () => {
    expect(queryTerms('What does Alice prefer for the editor? Alice!')).toEqual(['alice', 'prefer', 'editor']);
  });

  it('keeps stopwords when the query has nothing else', () => {
    expect(queryTerms('who is it')).toEqual(['who', 'is', 'it']);
  });

  it('splits FTS5 syntax into plain words', () => {
    expect(queryTerms('NEAR(dark mode) AND col:x OR "quoted" -minus ^caret star*')).toEqual([
      'near', 'dark', 'mode', 'col', 'x', 'quoted', 'minus', 'caret', 'star',
    ]);
  });

  it('returns nothing for punctuation and emoji only', () => {
    expect(queryTerms('🙂 ?! ... ()')).toEqual([]);
    expect(queryTerms('❤️ 👍🏽')).toEqual([]);
    expect(queryTerms('')).toEqual([]);
  });

  it('caps the number of terms of a huge query', () => {
    const query = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
    expect(queryTerms(query)).toHaveLength(MAX_QUERY_TERMS);
  });

  it('keeps letters of other scripts and diacritics', () => {
    expect(words('Café 東京 naïve')).toEqual(['café', '東京', 'naïve']);
  });
});

describe('toFtsMatch', () => {
  it('quotes every term and joins them with OR', () => {
    expect(toFtsMatch(['dark', 'mode'])).toBe('"dark" OR "mode"');
  });

  it('doubles embedded quotes', () => {
    expect(toFtsMatch(['a"b'])).toBe('"a""b"');
  });

  it('refuses an empty term list', () => {
    expect(() => toFtsMatch([])).toThrow();
  });
});
