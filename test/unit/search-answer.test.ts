import { describe, expect, it } from 'vitest';
import type { RatedHit } from '../../src/domain/search.js';
import { estimateTokens, packSearchAnswer, searchText, trimText } from '../../src/tools/search-answer.js';

const hit = (i: number, snippet: string, extra: Partial<RatedHit> = {}): RatedHit => ({
  id: `01JD3Z6Q6H8W1V8N2X4C5B7E${String(i).padStart(2, '0')}`,
  type: 'memory',
  layer: 'semantic',
  kind: 'note',
  namespace: 'default',
  snippet,
  score: 1 / (i + 1),
  occurred_at: '2025-05-08T10:00:00.000Z',
  tags: [],
  goal_id: null,
  superseded: false,
  origin: 'agent',
  trust: 'medium',
  thread: null,
  context: [],
  why: { keyword_rank: i + 1, vector_rank: null, vector_similarity: null, matched_terms: ['ledger'], trust: "the agent's words" },
  relevance: 'strong',
  ...extra,
});

describe('estimateTokens', () => {
  it('counts a quarter token per ASCII character and one per other character, surrogate pairs once', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('日本語')).toBe(3);
    expect(estimateTokens('😀')).toBe(1);
    expect(estimateTokens('x'.repeat(4000))).toBe(1000);
  });
});

describe('trimText', () => {
  it('cuts at a word boundary with an ellipsis, and leaves short text alone', () => {
    expect(trimText('short text', 40)).toBe('short text');
    expect(trimText('the nightly ledger export wrote invoices, credit notes and refunds', 30)).toBe('the nightly ledger export…');
    expect(trimText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
    for (let n = 1; n < 80; n++) expect(trimText('the nightly ledger export wrote invoices, credit notes and refunds', n).length).toBeLessThanOrEqual(Math.max(n, 1));
  });
});

describe('packSearchAnswer', () => {
  const long = (i: number) => `Ledger note ${i}: ${'the export wrote invoices and credit notes into one archive for finance to reconcile '.repeat(4)}`.trim();
  const result = { hits: Array.from({ length: 30 }, (_, i) => hit(i, long(i))), mode: 'keyword', terms: ['ledger'] };

  it('fits every budget, keeps the top hit, and trims before it drops', () => {
    for (const max of [200, 250, 400, 700, 1000, 2000, 5000]) {
      const { text, budget } = packSearchAnswer(result, max);
      expect(estimateTokens(text), `${max}`).toBeLessThanOrEqual(max);
      expect(budget.used_tokens).toBe(estimateTokens(text));
      expect(text.startsWith(`1. strong [memory/semantic/note] ${result.hits[0]!.id}`)).toBe(true);
      const shown = text.split('\n').filter((line) => /^\d+\. /.test(line)).length;
      expect(shown + budget.omitted.hits).toBe(30);
    }
    // Everything fits: the same text as without a budget.
    expect(packSearchAnswer(result, 32_000).text).toBe(searchText(result));
  });

  it('counts non-ASCII text by characters, so a budget holds for CJK text too', () => {
    const cjk = { hits: Array.from({ length: 10 }, (_, i) => hit(i, '台帳のエクスポートは請求書とクレジットノートを一つのアーカイブに書き出した。'.repeat(5))), mode: 'keyword', terms: ['台帳'] };
    const { text } = packSearchAnswer(cjk, 300);
    expect(estimateTokens(text)).toBeLessThanOrEqual(300);
    expect(text).toContain(cjk.hits[0]!.id);
  });

  it('cuts a long note of the search to a quarter of the budget, and keeps the top hit', () => {
    const noisy = { ...result, note: `vector search failed just now (${'x'.repeat(600)}); these are keyword results` };
    const { text, budget } = packSearchAnswer(noisy, 200);
    expect(text).toContain(result.hits[0]!.id);
    const note = text.split('\n')[0]!;
    expect(note.startsWith('vector search failed just now (xxx')).toBe(true);
    expect(note.length).toBeLessThanOrEqual(200);
    expect(note.endsWith('…')).toBe(true);
    expect(budget.omitted.hits).toBeGreaterThan(25);
    expect(estimateTokens(text)).toBeLessThanOrEqual(200);
  });
});
