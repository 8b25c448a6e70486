import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/tools/search-answer.js';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
let goalId: string;
const LESSONS = ['Stream large ledger exports row by row instead of building the whole file in memory', 'Run the ledger export job outside business hours'];

type Hit = { id: string; type: string; layer: string | null; kind: string; occurred_at: string; snippet: string; relevance: string | null; why: { matched_terms: string[]; track_record?: string }; context: Array<{ id: string; offset: number; snippet: string }> };

async function search(args: Record<string, unknown>): Promise<{ text: string; structured: Record<string, any> }> {
  const structured = await callOk(linked.client, 'search_memory', args);
  const result = await linked.client.callTool({ name: 'search_memory', arguments: args });
  return { text: (result.content as Array<{ text: string }>)[0]!.text, structured };
}

/** The text block as search_memory wrote it before max_tokens existed (with a lesson's track record, which came later). */
function textBefore(r: { hits: Hit[]; mode: string; terms: string[]; note?: string }): string {
  if (r.hits.length === 0) return r.note ?? 'no matches';
  const lines = r.hits.map((hit, i) => {
    const relevance = hit.relevance === null ? '' : `${hit.relevance}${hit.relevance === 'weak' ? ` (${hit.why.matched_terms.join(', ')})` : ''} `;
    return (
      `${i + 1}. ${relevance}[${hit.type}${hit.layer ? `/${hit.layer}` : ''}/${hit.kind}] ${hit.id} (${hit.occurred_at.slice(0, 10)}${hit.why.track_record ? `; track record ${hit.why.track_record}` : ''}): ${hit.snippet}` +
      hit.context.map((c) => `\n   ${c.offset > 0 ? '+' : ''}${c.offset} ${c.id}: ${c.snippet}`).join('')
    );
  });
  if (r.mode !== 'recent' && !r.hits.some((hit) => hit.relevance === 'strong')) lines.unshift(`no strong match (no hit holds most of: ${r.terms.join(', ')})`);
  if (r.note) lines.unshift(r.note);
  return lines.join('\n');
}

const filler = (i: number): string =>
  `Note ${i} about the ledger export: the nightly job wrote invoices, credit notes and refunds into one archive, and reviewers asked for totals per currency, per customer and per month, with the rounding explained line by line so that finance could reconcile every figure against the bank statements.`;

beforeAll(async () => {
  linked = await linkedServer();
  // A conversation, so hits have thread neighbours.
  const turns = Array.from({ length: 24 }, (_, i) =>
    i % 3 === 0 ? filler(i) : `Turn ${i}: someone replied about lunch plans, the weather on Thursday and a film they saw, nothing else worth keeping in mind for later at all.`,
  );
  await callOk(linked.client, 'remember', { memories: turns.map((content) => ({ content, layer: 'episodic', kind: 'turn', thread_id: 'chat-ledger' })) });
  await callOk(linked.client, 'remember', { memories: Array.from({ length: 12 }, (_, i) => ({ content: filler(100 + i), kind: 'fact' })) });
  const goal = (await callOk(linked.client, 'remember_goal', { title: 'Make the ledger export reconcile', plan: [{ title: 'Split the ledger export by currency' }] })).goal;
  goalId = goal.id;
  await callOk(linked.client, 'record_outcome', { goal_id: goal.id, result: 'success', summary: 'The ledger export now reconciles per currency', lessons: LESSONS });
});
afterAll(async () => {
  await linked.close();
});

describe('search_memory with max_tokens', () => {
  it('leaves the answer exactly as before without max_tokens', async () => {
    for (const args of [{ mode: 'keyword', query: 'ledger export reconcile', limit: 30, context: 1 }, { query: 'ledger export', goal_id: 'nope' }, { query: 'ledger export reconcile', limit: 30, context: 1 }, { query: '' }]) {
      const { text, structured } = await search(args);
      expect(structured).not.toHaveProperty('budget');
      expect(structured).not.toHaveProperty('goals');
      expect(Object.keys(structured)).toEqual(['hits', 'mode', 'terms', ...(structured.note === undefined ? [] : ['note'])]);
      expect(text).toBe(textBefore(structured as any));
    }
  });

  it('fits the text in the budget for every budget, with the top hit always', async () => {
    const whole = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 40, context: 2 });
    expect(estimateTokens(whole.text)).toBeGreaterThan(2500);
    for (const max_tokens of [200, 300, 500, 800, 1600, 2500]) {
      const { text, structured } = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 40, context: 2, max_tokens });
      expect(estimateTokens(text), `${max_tokens}`).toBeLessThanOrEqual(max_tokens);
      expect(text.length).toBeLessThanOrEqual(4 * max_tokens + 4);
      expect(structured.budget.used_tokens).toBe(estimateTokens(text));
      expect(structured.budget.max_tokens).toBe(max_tokens);
      // The structured hits are all there, whole; only the text is packed.
      expect(structured.hits).toEqual(whole.structured.hits);
      expect(text).toContain(`1. strong [`);
      expect(text).toContain(structured.hits[0].id);
      // A bigger budget never shows fewer hits.
      expect(structured.budget.omitted.hits).toBeLessThan(structured.hits.length);
    }
  });

  it('trims snippets before leaving hits out', async () => {
    const whole = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 20 });
    const max_tokens = 600;
    // Whole lines, best first, that fit in the budget.
    let fitWhole = 0;
    let used = 0;
    for (const line of whole.text.split('\n')) {
      used += estimateTokens(line) + 1;
      if (used > max_tokens) break;
      fitWhole++;
    }
    const { text, structured } = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 20, max_tokens });
    const shownHits = structured.hits.filter((hit: Hit) => text.includes(hit.id)).length;
    expect(shownHits).toBeGreaterThan(fitWhole);
    expect(structured.budget.trimmed).toBeGreaterThan(0);
    // Hits are a prefix of the ranking, each cut at a word boundary with an ellipsis.
    const hitLines = text.split('\n').filter((line) => /^\d+\. /.test(line));
    expect(hitLines).toHaveLength(shownHits);
    hitLines.forEach((line, i) => {
      expect(line.startsWith(`${i + 1}. `)).toBe(true);
      expect(line).toContain(structured.hits[i].id);
      expect(line).toMatch(/[a-z0-9]…$/i);
    });
  });

  it('adds the linked goal with its lessons when there is room, and counts them out when there is not', async () => {
    const roomy = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 40, max_tokens: 16_000 });
    expect(roomy.structured.goals).toEqual([{ id: goalId, title: 'Make the ledger export reconcile', status: 'achieved', lessons: LESSONS }]);
    expect(roomy.text).toContain('linked goals:');
    expect(roomy.text).toMatch(new RegExp(`- goal ${goalId} \\[achieved\\] \\(hits? [\\d, ]+\\): Make the ledger export reconcile`));
    for (const lesson of LESSONS) expect(roomy.text).toContain(`  lesson: ${lesson}`);
    expect(roomy.structured.budget.omitted).toEqual({ hits: 0, context: 0, goals: 0, lessons: 0 });

    const tight = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 40, max_tokens: 300 });
    expect(tight.structured.goals).toEqual(roomy.structured.goals);
    expect(tight.text).not.toContain('lesson:');
    expect(tight.structured.budget.omitted).toMatchObject({ goals: 1, lessons: 2 });
  });

  it('says in its last line what it left out, counted right', async () => {
    const { text, structured } = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 30, context: 1, max_tokens: 800 });
    const lines = text.split('\n');
    const hitsShown = lines.filter((line) => /^\d+\. /.test(line)).length;
    const contextShown = lines.filter((line) => /^ {3}[+-]\d+ /.test(line)).length;
    const contextAll = structured.hits.reduce((n: number, hit: Hit) => n + hit.context.length, 0);
    const { omitted } = structured.budget;
    expect(omitted.hits).toBe(structured.hits.length - hitsShown);
    expect(omitted.context).toBe(contextAll - contextShown);
    expect(omitted.hits).toBeGreaterThan(0);
    const last = lines.at(-1)!;
    expect(last).toContain(`${omitted.hits} more hits`);
    if (omitted.context > 0) expect(last).toContain(`${omitted.context} context turn`);
    expect(last).toContain('to stay within 800 tokens; ask with a larger max_tokens, or fetch by id with get_memory or get_goal)');
  });

  it('gives context turns once the hits are whole', async () => {
    const { text, structured } = await search({ mode: 'keyword', query: 'ledger export reconcile', limit: 3, context: 1, max_tokens: 3000 });
    const contextAll = structured.hits.reduce((n: number, hit: Hit) => n + hit.context.length, 0);
    expect(contextAll).toBeGreaterThan(0);
    expect(structured.budget.omitted.context).toBe(0);
    expect(structured.budget.trimmed).toBe(0);
    // Everything fits: the text is the unbudgeted one, with no line about what was left out.
    expect(structured.goals).toEqual([]);
    expect(text).toBe(textBefore(structured as any));
  });

  it('answers a search with nothing found within the budget too', async () => {
    const { text, structured } = await search({ mode: 'keyword', query: 'zebra quokka', max_tokens: 200 });
    expect(text).toBe('no matches');
    expect(structured.budget).toEqual({ max_tokens: 200, used_tokens: 3, trimmed: 0, omitted: { hits: 0, context: 0, goals: 0, lessons: 0 } });
  });

  it('refuses bad budgets with a clear message', async () => {
    for (const max_tokens of [0, 199, 32_001, 800.5, -5, '800', null]) {
      const message = await callError(linked.client, 'search_memory', { query: 'ledger', max_tokens });
      expect(message, JSON.stringify(max_tokens)).toMatch(/max_tokens/);
    }
  });
});
