import { freshMemory } from '../../src/domain/memory.js';
import type { Embedder } from '../../src/embeddings/embedder.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** The text of the i-th numbered memory: distinct words, so the hash embedder gives each its own vector. */
export const numberedText = (i: number): string => `memory number ${i} about topic${i} and word${i % 7}`;

/**
 * Store memories `first`..`first + count - 1` the way the server does (record,
 * text and vector in one transaction), with ids that sort as they are numbered.
 */
export async function storeNumbered(store: SqliteStore, embedder: Embedder, first: number, count: number): Promise<string[]> {
  const texts = Array.from({ length: count }, (_, i) => numberedText(first + i));
  const vectors = await embedder.embed(texts);
  const now = new Date().toISOString();
  const memories = texts.map((content, i) => ({
    memory: freshMemory(
      {
        id: `M${String(first + i).padStart(25, '0')}`,
        layer: 'semantic', kind: 'note', content, tags: [], metadata: {}, importance: 0.5, namespace: 'default',
        source: null, origin: 'agent', origin_ref: null, written_by: null,
      },
      now,
    ),
    indexed: { text: content, vector: { modelKey: embedder.model.key, values: vectors[i]! } },
  }));
  await store.insertMemories(memories);
  return memories.map((m) => m.memory.id);
}
