import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { VectorSlab } from './vector-slab.js';

/** hnswlib's file header: six size_t (the level-0 layout among them), two int32, three size_t, a double, a size_t. */
const HEADER_BYTES = 96;
/** A record's level-0 links start with a 4-byte header whose third byte marks the record deleted. */
const DELETED_BYTE = 2;
const DELETE_MARK = 0x01;

export interface SnapshotVectors {
  sha256: string;
  /** The vectors of the records the graph holds and has not deleted, by label (doc id). */
  slab: VectorSlab;
}

interface Layout {
  count: number;
  bytesPerRecord: number;
  labelOffset: number;
  dataOffset: number;
}

function layoutOf(header: Buffer, dimension: number, expectedCount: number): Layout {
  const field = (index: number): number => Number(header.readBigUInt64LE(index * 8));
  const [linksOffset, , count, bytesPerRecord, labelOffset, dataOffset] = [0, 1, 2, 3, 4, 5].map(field) as [number, number, number, number, number, number];
  if (count !== expectedCount) throw new Error(`snapshot header counts ${count} vectors, expected ${expectedCount}`);
  const sane = linksOffset === 0 && dataOffset >= 4 && dataOffset + dimension * 4 <= labelOffset && labelOffset + 8 <= bytesPerRecord;
  if (!sane) throw new Error('snapshot header describes records this reader does not know');
  return { count, bytesPerRecord, labelOffset, dataOffset };
}

/**
 * One pass over a snapshot file: its SHA-256, and the vectors of its live
 * records, read from hnswlib's level-0 records (links, then the vector, then
 * the label). At a start this replaces reading every vector back from SQLite
 * (about 2.5 µs a row: 2.5 s at a million) with a sequential read of a file
 * that is read for its checksum anyway. The graph keeps vectors as given
 * (see SPACE in hnsw-graph.ts): the slab's dequantized vectors, which
 * quantize to the codes the slab held, as the vectors SQLite holds do.
 * The caller trusts the vectors only if the checksum matches the manifest.
 */
export async function readSnapshotVectors(file: string, dimension: number, expectedCount: number): Promise<SnapshotVectors> {
  const hash = createHash('sha256');
  const slab = new VectorSlab(dimension);
  slab.reserve(expectedCount);
  let layout: Layout | null = null;
  // The bytes of a record (or the header) split between two chunks: copied here, never the whole chunk.
  let pending: Buffer = Buffer.alloc(0);
  let record = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (layout !== null && record >= layout.count) continue;
    let at = 0;
    if (layout === null) {
      const needed = HEADER_BYTES - pending.length;
      pending = Buffer.concat([pending, chunk.subarray(0, needed)]);
      at = Math.min(needed, chunk.length);
      if (pending.length < HEADER_BYTES) continue;
      layout = layoutOf(pending, dimension, expectedCount);
      pending = Buffer.alloc(0);
    }
    const { count, bytesPerRecord } = layout;
    const take = (bytes: Buffer, offset: number): void => {
      if ((bytes[offset + DELETED_BYTE]! & DELETE_MARK) === 0) {
        const label = Number(bytes.readBigUInt64LE(offset + layout!.labelOffset));
        slab.setBytes(label, bytes.subarray(offset + layout!.dataOffset, offset + layout!.dataOffset + dimension * 4));
      }
      record += 1;
    };
    if (pending.length > 0 && record < count) {
      const needed = bytesPerRecord - pending.length;
      pending = Buffer.concat([pending, chunk.subarray(at, at + needed)]);
      at += Math.min(needed, chunk.length - at);
      if (pending.length < bytesPerRecord) continue;
      take(pending, 0);
      pending = Buffer.alloc(0);
    }
    for (; record < count && chunk.length - at >= bytesPerRecord; at += bytesPerRecord) take(chunk, at);
    if (record < count && at < chunk.length) pending = Buffer.from(chunk.subarray(at));
  }
  if (layout === null || record < layout.count) throw new Error(`snapshot ends after ${record} of ${layout?.count ?? expectedCount} records`);
  return { sha256: hash.digest('hex'), slab };
}
