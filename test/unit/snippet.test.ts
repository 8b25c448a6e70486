import { describe, expect, it } from 'vitest';
import { makeSnippet, matchedTerms, termMatches } from '../../src/memory/snippet.js';

describe('snippets', () => {
  it('returns short text whole, with whitespace folded', () => {
    expect(makeSnippet('a  short\n text', ['short'], 100)).toBe('a short text');
  });

  it('centres a long text on the first match and marks the cuts', () => {
    const text = `${'lorem ipsum '.repeat(50)}the billing export failed ${'dolor sit '.repeat(50)}`;
    const snippet = makeSnippet(text, ['billing'], 80);
    expect(snippet.length).toBeLessThanOrEqual(82);
    expect(snippet).toContain('billing');
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
  });

  it('starts at the beginning when nothing matches', () => {
    const snippet = makeSnippet('x'.repeat(500), ['zzz'], 50);
    expect(snippet.startsWith('xxx')).toBe(true);
    expect(snippet.length).toBeLessThanOrEqual(51);
  });

  it('matches inflected forms loosely', () => {
    expect(termMatches('deploy', 'deploying')).toBe(true);
    expect(termMatches('cat', 'category')).toBe(false);
    expect(matchedTerms(['deploy', 'banana'], 'We were deploying on Friday')).toEqual(['deploy']);
  });
});
