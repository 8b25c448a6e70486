import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Many clients show a model only the text block of a search, not its structuredContent: the text must say
// how well each hit matches, so that hits for something never stored do not read like real matches.
// The built server with its bundled embedding model, as a client launches it.

const FACTS = [
  'Alice prefers dark mode in every editor',
  'The team deploys the billing service on Tuesdays',
  'Bob is allergic to peanuts',
  'The staging database runs Postgres 16',
  'Carol adopted a puppy named Max in May',
  'Dana likes hiking in the Alps',
  'The CI pipeline caches node_modules between runs',
  'Eve moved to Lisbon last year',
];
const LABELLED_LINE = /^\d+\. (strong|weak \([^)]+\)|context|vector-only) \[memory\/semantic\/note\] \w+ \(\d{4}-\d{2}-\d{2}\): /;

const temp = makeTempDir('pinak-e2e-');
let server: Spawned;
beforeAll(async () => {
  server = await spawnServer(temp.dir);
  await callOk(server.client, 'remember', { memories: FACTS.map((content) => ({ content })) });
});
afterAll(async () => {
  await server?.close();
  temp.cleanup();
});

async function search(query: string): Promise<{ text: string; hits: Array<{ relevance: string; why: { vector_similarity: number | null } }> }> {
  const result = await server.client.callTool({ name: 'search_memory', arguments: { query, limit: 5 } });
  return { text: (result.content as Array<{ text: string }>)[0]!.text, hits: (result.structuredContent as { hits: never[] }).hits };
}

/** Vector-only hits under 0.6 × the best similarity of the result: what the text leaves out. */
function farBelow(hits: Array<{ relevance: string; why: { vector_similarity: number | null } }>): number {
  const best = Math.max(...hits.map((h) => h.why.vector_similarity ?? -Infinity));
  return hits.filter((h) => h.relevance === 'vector-only' && (h.why.vector_similarity ?? Infinity) < best * 0.6).length;
}

describe('search_memory text', () => {
  it('says so when nothing stored matches the query, and marks each hit weak or vector-only', async () => {
    const { text, hits } = await search('What is the capital of Mongolia?');
    const lines = text.split('\n');
    expect(lines[0]).toBe('no strong match (no hit holds most of: capital, mongolia)');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.relevance === 'vector-only' || h.relevance === 'weak')).toBe(true);
    const shown = lines.filter((line) => /^\d+\. /.test(line));
    expect(shown.length).toBe(hits.length - farBelow(hits));
    for (const line of shown) expect(line).toMatch(LABELLED_LINE);
  });

  it('marks a real match strong and leaves out vector-only hits far below the best, saying how many', async () => {
    const { text, hits } = await search('how do we deploy billing');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^1\. strong \[memory\/semantic\/note\] \w+ \(\d{4}-\d{2}-\d{2}\): The team deploys the billing service on Tuesdays$/);
    const leftOut = farBelow(hits);
    expect(leftOut).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe(`(${leftOut} more vector-only hit${leftOut === 1 ? '' : 's'}, far less similar than the best, left out)`);
    expect(lines.filter((line) => /^\d+\. /.test(line))).toHaveLength(hits.length - leftOut);
    // structuredContent keeps every hit, each with its relevance.
    expect(hits[0]!.relevance).toBe('strong');
    expect(hits.filter((h) => h.relevance === 'vector-only')).toHaveLength(hits.length - 1);
  });

  it('marks a hit that holds only some of the words weak, naming them', async () => {
    const { text } = await search('Which editor theme does Alice like?');
    expect(text).toMatch(/^1\. strong \[memory\/semantic\/note\] \w+ \([\d-]+\): Alice prefers dark mode in every editor$/m);
    expect(text).toMatch(/^\d\. weak \(like\) \[memory\/semantic\/note\] \w+ \([\d-]+\): Dana likes hiking in the Alps$/m);
  });
});
