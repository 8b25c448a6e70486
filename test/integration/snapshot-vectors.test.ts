import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HnswGraph } from '../../src/vector/hnsw-graph.js';
import { writeSnapshot } from '../../src/vector/snapshot-files.js';
import { readSnapshotVectors } from '../../src/vector/snapshot-vectors.js';
import { VectorSlab } from '../../src/vector/vector-slab.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// A start reads the vectors from the snapshot file it checksums anyway
// (hnswlib's level-0 records), not from SQLite: they must be the graph's
// live vectors exactly, and a damaged file must be refused, never half read.

const DIM = 24;
const cleanups: Array<() => unknown> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function unit(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.31 + i * 1.7));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

async function snapshotOf(labels: number[], deleted: number[]) {
  const { dir, cleanup } = makeTempDir('pinak-snapvec-');
  cleanups.push(cleanup);
  const graph = HnswGraph.create({ dimension: DIM, m: 8, efConstruction: 50, efSearch: 50 }, 16);
  // As the index does: the graph is fed the slab's (dequantized) vectors.
  const fed = new VectorSlab(DIM);
  for (const label of labels) {
    fed.set(label, unit(label));
    graph.upsert(label, fed.get(label)!);
  }
  for (const label of deleted) graph.remove(label);
  const manifest = await writeSnapshot(graph, dir, 'model@24#x', 7);
  return { file: join(dir, manifest.file), manifest, fed };
}

describe('reading vectors from a snapshot file', () => {
  it('gives every live record its vector by label, and no deleted one, with the file checksum', async () => {
    // Labels up to hnswlib's uint32 limit, in no order, some deleted; enough records to span several read chunks.
    const labels = Array.from({ length: 6000 }, (_, i) => (i % 3 === 0 ? 4_294_967_295 - i : i * 7919 + 3));
    const deleted = labels.filter((_, i) => i % 11 === 0);
    const { file, manifest, fed } = await snapshotOf(labels, deleted);
    const { sha256, slab } = await readSnapshotVectors(file, DIM, manifest.count);
    expect(sha256).toBe(manifest.sha256);
    expect(slab.size).toBe(labels.length - deleted.length);
    for (const label of deleted) expect(slab.has(label), String(label)).toBe(false);
    let worst = 0;
    const query = unit(-1);
    const live = labels.filter((l) => !deleted.includes(l));
    for (const label of live) {
      const read = slab.get(label)!;
      const stored = fed.get(label)!;
      for (let i = 0; i < DIM; i++) worst = Math.max(worst, Math.abs(read[i]! - stored[i]!));
    }
    // The graph keeps vectors as given, and they quantize again to the codes they came from:
    // the same bits come back, and exact scores equal those of a slab loaded from the source.
    expect(worst).toBe(0);
    expect(slab.search(query, 50)).toEqual(fed.search(query, 50, live));
  });

  it('refuses a file cut short or with a header it does not know, and differs in checksum when a byte changes', async () => {
    const { file, manifest } = await snapshotOf([1, 2, 3, 4, 5], []);
    const bytes = readFileSync(file);

    writeFileSync(file, bytes.subarray(0, bytes.length - 40));
    await expect(readSnapshotVectors(file, DIM, manifest.count)).rejects.toThrow(/ends after 4 of 5 records/);

    const header = Buffer.from(bytes);
    header.writeBigUInt64LE(2n, 40); // the vector's offset inside a record, before the links end
    writeFileSync(file, header);
    await expect(readSnapshotVectors(file, DIM, manifest.count)).rejects.toThrow(/records this reader does not know/);

    await expect(readSnapshotVectors(file, DIM + 1, manifest.count)).rejects.toThrow();
    await expect(readSnapshotVectors(file, DIM, 6)).rejects.toThrow(/counts 5 vectors, expected 6/);

    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 100]! ^= 0xff;
    writeFileSync(file, flipped);
    expect((await readSnapshotVectors(file, DIM, manifest.count)).sha256).not.toBe(manifest.sha256);

    truncateSync(file, 50);
    await expect(readSnapshotVectors(file, DIM, manifest.count)).rejects.toThrow(/ends after 0 of 5/);
  });
});
