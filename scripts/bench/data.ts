/**
 * Deterministic benchmark data: English-like sentences drawn from the bundled
 * model's vocabulary (ordered by corpus frequency) with a Zipf-like
 * distribution, plus tags, namespaces, layers and timestamps. The same seed
 * gives the same memories on every machine.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const VOCAB_FILE = fileURLToPath(new URL('../../models/static-glove-50k/tokenizer.json', import.meta.url));
/** How many of the most frequent words sentences draw from. */
const VOCAB_SIZE = 30_000;
const NAMESPACES = 100;
const TAGS = 50;
const LAYERS = ['semantic', 'episodic', 'procedural'] as const;
const KINDS = { semantic: ['fact', 'preference'], episodic: ['event', 'turn'], procedural: ['howto', 'lesson'] } as const;
const START = Date.UTC(2024, 0, 1);
const SPAN_MS = 2 * 365 * 24 * 3600 * 1000;

export interface BenchMemory {
  content: string;
  layer: (typeof LAYERS)[number];
  kind: string;
  tags: string[];
  namespace: string;
  occurred_at: string;
}

/** mulberry32: small, fast, seeded. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let vocabulary: string[] | undefined;
function words(): string[] {
  if (!vocabulary) {
    const tokenizer = JSON.parse(readFileSync(VOCAB_FILE, 'utf8')) as { model: { vocab: Record<string, number> } };
    vocabulary = Object.entries(tokenizer.model.vocab)
      .filter(([word]) => /^[a-z]+$/.test(word))
      .sort((a, b) => a[1] - b[1])
      .map(([word]) => word)
      .slice(0, VOCAB_SIZE);
  }
  return vocabulary;
}

/** A Zipf(s≈1) rank in [0, n): P(rank r) ∝ 1 / (r + 1), by inverting the harmonic CDF approximately. */
function zipfRank(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(Math.exp(random() * Math.log(n + 1)) - 1));
}

/** One sentence of 8–25 words, Zipf-distributed over the vocabulary like real English. */
export function makeSentence(random: () => number): string {
  const vocab = words();
  const length = 8 + Math.floor(random() * 18);
  const out: string[] = [];
  for (let i = 0; i < length; i++) out.push(vocab[zipfRank(random, vocab.length)]!);
  return out.join(' ');
}

/** The i-th memory of the data set with this seed (generation is sequential: call in order). */
export function* memories(count: number, seed = 42): Generator<BenchMemory> {
  const random = seeded(seed);
  for (let i = 0; i < count; i++) {
    const layer = LAYERS[Math.floor(random() * LAYERS.length)]!;
    const kinds = KINDS[layer];
    yield {
      content: makeSentence(random),
      layer,
      kind: kinds[Math.floor(random() * kinds.length)]!,
      tags: [`tag${zipfRank(random, TAGS)}`, `tag${zipfRank(random, TAGS)}`].filter((t, j, all) => all.indexOf(t) === j),
      namespace: `ns${zipfRank(random, NAMESPACES)}`,
      occurred_at: new Date(START + Math.floor(random() * SPAN_MS)).toISOString(),
    };
  }
}

/** Queries: 3–6 words each, drawn like the data (so they match realistic numbers of documents). */
export function queries(count: number, seed = 7): string[] {
  const random = seeded(seed);
  const vocab = words();
  return Array.from({ length: count }, () => {
    const n = 3 + Math.floor(random() * 4);
    return Array.from({ length: n }, () => vocab[zipfRank(random, vocab.length)]!).join(' ');
  });
}

/**
 * Queries of frequent words only: 2–3 distinct words each found in 20–60 % of
 * the first `size` memories (in these sentences, words like "of", "to", "and":
 * kept in a query that has nothing else), the case where a keyword search
 * touches a large share of the store.
 */
export function frequentWordQueries(count: number, size: number, seed = 11): string[] {
  const holding = new Map<string, number>();
  for (const memory of memories(size)) for (const word of new Set(memory.content.split(' '))) holding.set(word, (holding.get(word) ?? 0) + 1);
  const frequent = [...holding].filter(([, n]) => n >= 0.2 * size && n <= 0.6 * size).map(([word]) => word).sort();
  if (frequent.length < 3) throw new Error(`only ${frequent.length} words are in 20-60 % of ${size} memories`);
  const random = seeded(seed);
  return Array.from({ length: count }, () => {
    const picked = new Set<string>();
    const n = 2 + Math.floor(random() * 2);
    while (picked.size < n) picked.add(frequent[Math.floor(random() * frequent.length)]!);
    return [...picked].join(' ');
  });
}
