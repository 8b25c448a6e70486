import { setTimeout as sleep } from 'node:timers/promises';
import type { Embedder } from '../embeddings/embedder.js';
import type { Logger } from '../logging.js';
import type { MemoryStore } from '../store/store.js';

export interface ReembedProgress {
  docs: number;
  embedded: number;
}

export interface ReembedOptions {
  batch: number;
  signal?: AbortSignal;
  onProgress?: (progress: ReembedProgress) => void;
}

const EMPTY = new Float32Array(0);

/** An embedder's refusal of the texts themselves (an embedding service's 400, 413 or 422: too long, too many), not of every request. */
const rejectsInput = (error: unknown): boolean => (error as { rejectedInput?: unknown } | null)?.rejectedInput === true;

/**
 * Embed a batch; when the embedder refuses its texts (a service's 400: one
 * too long for the model), embed them one by one, and give a text refused
 * alone an empty vector (embedded, never in the index, as a text the model
 * knows nothing of), so that one record cannot stop re-embedding for good.
 * If every text is refused alone, the texts are not the cause: the error
 * stands, and the batch is tried again later.
 */
async function embedBatch(embedder: Embedder, texts: string[], logger: Logger, docIds: readonly number[]): Promise<Array<Float32Array | null>> {
  try {
    return await embedder.embed(texts);
  } catch (error) {
    if (!rejectsInput(error)) throw error;
    if (texts.length === 1) {
      logger.warn({ err: error, docIds }, 'the embedder refuses this record\'s text; it stays without a vector (keyword search finds it)');
      return [null];
    }
    const out: Array<Float32Array | null> = [];
    const refused: number[] = [];
    for (const [i, text] of texts.entries()) {
      try {
        out.push((await embedder.embed([text]))[0] ?? null);
      } catch (single) {
        if (!rejectsInput(single)) throw single;
        out.push(null);
        refused.push(docIds[i]!);
      }
    }
    if (refused.length === texts.length) throw error;
    logger.warn({ err: error, docIds: refused }, 'the embedder refuses these records\' texts; they stay without a vector (keyword search finds them)');
    return out;
  }
}

/**
 * Give every record a vector of the active model: records written while the
 * embedder failed, and every record after a model change. Works in batches
 * from the store (the durable queue is "records without a vector of this
 * model"), so it resumes where it stopped after a crash. Returns how many
 * records it embedded.
 */
export async function reembedMissing(store: MemoryStore, embedder: Embedder, logger: Logger, options: ReembedOptions): Promise<number> {
  const key = embedder.model.key;
  let done = 0;
  let cursor = 0;
  let lastLog = Date.now();
  for (;;) {
    if (options.signal?.aborted) break;
    // From where the last batch ended: starting over each time rescanned every record done so far
    // (quadratic: at a million, re-embedding slowed from about 800 to 500 records/s past 600,000).
    const docs = await store.docsWithoutVector(key, options.batch, cursor);
    if (docs.length === 0) break;
    cursor = docs.at(-1)!.doc_id;
    const vectors = await embedBatch(embedder, docs.map((doc) => doc.text ?? ''), logger, docs.map((doc) => doc.doc_id));
    await store.setVectors(docs.map((doc, i) => ({ doc_id: doc.doc_id, vector: { modelKey: key, values: vectors[i] ?? EMPTY } })));
    done += docs.length;
    const progress = await store.embeddingProgress(key);
    options.onProgress?.(progress);
    if (Date.now() - lastLog > 5000) {
      logger.info(progress, 're-embedding records for the active model');
      lastLog = Date.now();
    }
  }
  if (done > 0) logger.info({ embedded: done, model: embedder.model.id }, 're-embedding finished');
  return done;
}

const REEMBED_LEASE_MS = 60_000;
const RETRY_MS = 5_000;
/** After a failed batch (an embedding service that does not answer), wait 1 s, 2 s, 4 s… up to a minute, with jitter: never a hot loop. */
const FAILURE_BASE_MS = 1000;
const FAILURE_MAX_MS = 60_000;

/** The wait after `failures` failed batches in a row, or until the embedder said it may be asked again. */
export function failureBackoffMs(failures: number, error: unknown, random: () => number = Math.random, now = Date.now()): number {
  const ceiling = Math.min(FAILURE_MAX_MS, FAILURE_BASE_MS * 2 ** Math.max(0, failures - 1));
  const backoff = ceiling / 2 + random() * (ceiling / 2);
  const retryAt = (error as { retryAt?: unknown } | null)?.retryAt;
  return Math.round(Math.max(backoff, typeof retryAt === 'number' ? retryAt - now : 0));
}

/**
 * Re-embed in the background until every record has a vector of the active
 * model. Several processes may share the database: one holds the lease and
 * works, the others check back later (and take over if it dies). A batch
 * that cannot be embedded (the embedder fails) is tried again after a
 * backoff, until it can or `signal` aborts.
 */
export async function reembedInBackground(
  store: MemoryStore,
  embedder: Embedder,
  logger: Logger,
  options: ReembedOptions & { signal: AbortSignal },
): Promise<number> {
  const lease = `reembed:${embedder.model.key}`;
  let total = 0;
  let failures = 0;
  while (!options.signal.aborted) {
    const progress = await store.embeddingProgress(embedder.model.key);
    if (progress.embedded >= progress.docs) break;
    let wait = RETRY_MS;
    if (await store.acquireLease(lease, REEMBED_LEASE_MS)) {
      try {
        total += await reembedMissing(store, embedder, logger, {
          ...options,
          onProgress: (p) => {
            options.onProgress?.(p);
            void store.acquireLease(lease, REEMBED_LEASE_MS);
          },
        });
        if (failures > 0) logger.info({ model: embedder.model.id, failures }, 're-embedding works again');
        failures = 0;
        continue;
      } catch (error) {
        // Closing: the embedder was closed under the batch, which stays queued for the next start.
        if (options.signal.aborted) break;
        failures += 1;
        wait = failureBackoffMs(failures, error);
        // One line when the failures start, then one in ten: an outage of hours writes a few lines, not thousands.
        if (failures === 1 || failures % 10 === 0) logger.warn({ err: error, model: embedder.model.id, failures, retryInMs: wait }, 're-embedding failed; records keep their place in the queue and are tried again');
      } finally {
        await store.releaseLease(lease);
      }
    }
    try {
      await sleep(wait, undefined, { signal: options.signal });
    } catch {
      break;
    }
  }
  return total;
}
