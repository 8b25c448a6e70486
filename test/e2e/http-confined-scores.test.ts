import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { useHttpHarness } from '../helpers/http-harness.js';
import { seededRandom, sentence } from '../helpers/sentences.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-confined-');

/** A word FTS5 reads as a phrase of several tokens (a spacing mark splits it), so that path is probed too. */
const PHRASE_WORD = 'क्षत्रिय';

/** What the namespace-limited reader asks, in every mode: the probe word, the control word, both, a phrase, and with thread context. */
const QUERIES: Array<Record<string, unknown>> = [
  { query: 'zephyr' },
  { query: 'quasar' },
  { query: 'zephyr harbour quasar' },
  { query: `zephyr ${PHRASE_WORD}` },
  { query: 'did you see the zephyr kite', context: 1 },
];
const MODES = ['keyword', 'hybrid', 'vector'] as const;

/** Every answer, whole: hits with ids, scores, ranks, why, context and snippets, the mode, terms and any note, and the text block. */
async function answers(client: Client): Promise<unknown[]> {
  const all: unknown[] = [];
  for (const mode of MODES) {
    for (const query of QUERIES) {
      const result = await client.callTool({ name: 'search_memory', arguments: { ...query, mode, limit: 10 } });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      all.push({ mode, query, structured: result.structuredContent, text: result.content });
    }
  }
  return all;
}

/** Memories for another namespace, each holding the probe word, in the shape of one variation. */
const VARIATIONS: Record<string, (i: number, random: () => number) => Record<string, unknown>> = {
  plain: (i, random) => ({ content: `zephyr ${sentence(random)} number ${i}` }),
  // Thread turns: window BM25 over the other namespace's windows.
  thread: (i, random) => ({ content: `${i % 2 ? 'Did you see the zephyr?' : 'zephyr kite'} ${sentence(random, 4)}`, thread_id: 'talk', layer: 'episodic' }),
  // The word many times in each memory: the store's in-memory BM25 leaves such queries to FTS5.
  repeated: (i) => ({ content: `${'zephyr '.repeat(3000)}quasar ${i}` }),
  phrase: (i, random) => ({ content: `${PHRASE_WORD} zephyr ${sentence(random, 3)} ${i}` }),
};

describe('search confined to a namespace over HTTP', () => {
  it('a namespace-limited key gets the same answers, scores and notes whatever other namespaces hold', async () => {
    const dir = tempDataDir();
    const admin = createKey(dir, ['--tenant', 'acme', '--role', 'admin']);
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader', '--namespaces', 'alpha']);
    const server = await start(dir, ['--rate-limit-per-minute', '0']);
    const { client: writer } = await connect(keyedClient(server.origin, admin.key, 'admin'));
    const { client: limited } = await connect(keyedClient(server.origin, reader.key, 'reader'));

    const random = seededRandom(7);
    const inAlpha = (memory: Record<string, unknown>) => ({ ...memory, namespace: 'alpha' });
    await callOk(writer, 'remember', {
      memories: [
        { content: 'The zephyr lantern hung over the quiet harbour at dusk.' },
        { content: 'A quasar glowed above the harbour all night.' },
        { content: `The ${PHRASE_WORD} festival had a zephyr parade.` },
        ...Array.from({ length: 6 }, () => ({ content: sentence(random) })),
      ].map(inAlpha),
    });
    await callOk(writer, 'remember', {
      memories: ['Did you see the zephyr kite yesterday?', 'Yes, it flew over the harbour for an hour.', 'Next time bring the camera.'].map((content) =>
        inAlpha({ content, thread_id: 'chat', layer: 'episodic' }),
      ),
    });
    // A superseded memory: readable with include_superseded, so it counts in the namespace's statistics.
    const old = (await callOk(writer, 'remember', { namespace: 'alpha', content: 'zephyr quasar old note' })).stored[0].id;
    await callOk(writer, 'remember', { namespace: 'alpha', content: 'zephyr quasar note, corrected', supersedes: old });

    const baseline = await answers(limited);
    const keywordHits = (baseline[0] as { structured: { hits: Array<{ score: number }> } }).structured.hits;
    expect(keywordHits.length).toBeGreaterThan(2);
    const unconfinedBefore = await callOk(writer, 'search_memory', { query: 'zephyr', namespace: 'alpha', mode: 'keyword' });

    for (const [variation, make] of Object.entries(VARIATIONS)) {
      let held = 0;
      for (const k of [1, 2, 5]) {
        const memories = Array.from({ length: k - held }, (_, i) => ({ ...make(held + i, random), namespace: `beta-${variation}` }));
        await callOk(writer, 'remember', { memories });
        held = k;
        expect(await answers(limited), `${k} memories of variation "${variation}" in another namespace`).toEqual(baseline);
      }
    }
    // The other namespaces did move the store-wide statistics: a key without a namespace limit sees other scores.
    const unconfinedAfter = await callOk(writer, 'search_memory', { query: 'zephyr', namespace: 'alpha', mode: 'keyword' });
    expect(unconfinedAfter.hits.map((hit: { score: number }) => hit.score)).not.toEqual(unconfinedBefore.hits.map((hit: { score: number }) => hit.score));
    expect(server.stdout()).toBe('');
  }, 120_000);
});
