import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { VectorLog } from '../domain/vector-log.js';
import { VectorSlab } from './vector-slab.js';

const PAGE = 5000;

/**
 * Every visible vector of a model, read a page at a time by doc id, yielding
 * between pages so the server keeps answering while a large index loads. No
 * read transaction spans the pages: the caller replays the change log from a
 * position taken before the first page, which brings any row that changed
 * meanwhile up to date.
 */
export async function readSlab(log: VectorLog, modelKey: string, dimension: number, expected: number, signal?: AbortSignal): Promise<VectorSlab> {
  const slab = new VectorSlab(dimension);
  slab.reserve(expected);
  for (let after = 0; ; ) {
    signal?.throwIfAborted();
    const page = log.vectorPage(modelKey, after, PAGE);
    for (const { doc_id, vector } of page) slab.setBytes(doc_id, vector);
    if (page.length < PAGE) return slab;
    after = page.at(-1)!.doc_id;
    await yieldToEventLoop();
  }
}
