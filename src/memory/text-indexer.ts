import type { Embedder } from '../embeddings/embedder.js';
import type { IndexedText } from '../domain/indexed-text.js';
import type { Logger } from '../logging.js';

const EMPTY = new Float32Array(0);

/** Turns record texts into what the store indexes: the text, and its vector when the embedder can make one. */
export interface TextIndexer {
  index(texts: readonly string[]): Promise<IndexedText[]>;
}

/**
 * Embed before writing, so a record and its vector commit together. When the
 * embedder fails, the record is still stored (keyword search finds it at once)
 * and the background re-embedding gives it a vector later (`onMissed` wakes
 * it): records without a vector of the active model are that durable queue.
 */
export function createTextIndexer(embedder: Embedder | null, logger: Logger, onMissed: () => void = () => {}): TextIndexer {
  return {
    async index(texts) {
      if (!embedder || texts.length === 0) return texts.map((text) => ({ text, vector: null }));
      try {
        const vectors = await embedder.embed(texts);
        // A text the model knows nothing of gets an empty vector: embedded, but never in the index.
        return texts.map((text, i) => ({ text, vector: { modelKey: embedder.model.key, values: vectors[i] ?? EMPTY } }));
      } catch (error) {
        logger.warn({ err: error, count: texts.length }, 'embedding failed; storing without vectors for now');
        // Tell the background re-embedding: these records are its to embed once the embedder works again.
        queueMicrotask(onMissed);
        return texts.map((text) => ({ text, vector: null }));
      }
    },
  };
}
