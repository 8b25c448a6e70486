import { describe, expect, it } from 'vitest';
import { VectorSlab } from '../../src/vector/vector-slab.js';
import { seeded } from '../../scripts/bench/data.js';

// The slab holds vectors as int8 codes with one float32 scale each. What must
// hold: a small, bounded error; the same codes again for a vector read back
// dequantized (graph → snapshot → slab), so exact scores survive a restart;
// stored bytes at any alignment; and scores that rank as float32 would.

const DIM = 100;

function unitVectors(count: number, dim: number, seed: number): Float32Array[] {
  const next = seeded(seed);
  return Array.from({ length: count }, () => {
    const v = Float32Array.from({ length: dim }, () => next() * 2 - 1);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function bytesOf(vector: Float32Array): Uint8Array {
  return new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
}

describe('VectorSlab (int8 codes, one scale per vector)', () => {
  it('keeps each component within half a step of the vector, the largest exactly at ±127 steps', () => {
    const slab = new VectorSlab(DIM, 4);
    const vectors = unitVectors(500, DIM, 1);
    vectors.forEach((v, i) => slab.set(i, v));
    for (const [i, v] of vectors.entries()) {
      const back = slab.get(i)!;
      const maxAbs = Math.max(...v.map(Math.abs));
      const step = maxAbs / 127;
      for (let d = 0; d < DIM; d++) expect(Math.abs(back[d]! - v[d]!)).toBeLessThanOrEqual(step * 0.5000001);
      expect(Math.max(...back.map(Math.abs))).toBeCloseTo(maxAbs, 6);
    }
  });

  it('quantizes a dequantized vector to the same codes: bit-identical vectors and scores after a round trip', () => {
    const vectors = unitVectors(20_000, DIM, 2);
    // Scales of every magnitude, not only unit vectors.
    const next = seeded(3);
    vectors.forEach((v, i) => (i % 2 === 0 ? undefined : v.forEach((x, d) => (v[d] = x * 2 ** Math.floor(next() * 40 - 20)))));
    const first = new VectorSlab(DIM);
    vectors.forEach((v, i) => first.set(i, v));
    const second = new VectorSlab(DIM);
    const third = new VectorSlab(DIM);
    for (let i = 0; i < vectors.length; i++) {
      second.set(i, first.get(i)!);
      third.setBytes(i, bytesOf(second.get(i)!));
    }
    const differing: number[] = [];
    for (let i = 0; i < vectors.length; i++) {
      const [a, b, c] = [first, second, third].map((slab) => bytesOf(slab.get(i)!));
      if (a!.some((byte, at) => byte !== b![at] || byte !== c![at])) differing.push(i);
    }
    expect(differing).toEqual([]);
    const query = unitVectors(1, DIM, 4)[0]!;
    expect(second.search(query, 100)).toEqual(first.search(query, 100));
    expect(third.search(query, 100)).toEqual(first.search(query, 100));
  });

  it('reads stored float32 bytes at any alignment, as set does, and refuses the wrong length', () => {
    const vectors = unitVectors(50, DIM, 5);
    const fromArrays = new VectorSlab(DIM);
    const fromBytes = new VectorSlab(DIM);
    for (const [i, v] of vectors.entries()) {
      fromArrays.set(i, v);
      const page = Buffer.alloc(DIM * 4 + 8);
      const at = 1 + (i % 7); // never a multiple of 4 for most
      Buffer.from(bytesOf(v)).copy(page, at);
      expect(fromBytes.setBytes(i, page.subarray(at, at + DIM * 4))).toBe(true);
    }
    for (let i = 0; i < vectors.length; i++) expect(bytesOf(fromBytes.get(i)!)).toEqual(bytesOf(fromArrays.get(i)!));
    expect(fromBytes.setBytes(99, new Uint8Array(DIM * 4 - 4))).toBe(false);
    expect(fromBytes.has(99)).toBe(false);
    expect(() => fromBytes.set(99, new Float32Array(DIM + 1))).toThrow(/101 dimensions, expected 100/);
  });

  it('scores like float32 dot products, close enough to rank the same neighbours', () => {
    const vectors = unitVectors(5000, DIM, 6);
    const slab = new VectorSlab(DIM);
    vectors.forEach((v, i) => slab.set(i, v));
    const queries = unitVectors(20, DIM, 7);
    let overlap = 0;
    for (const query of queries) {
      const exact = vectors.map((v, i) => ({ docId: i, similarity: dot(v, query) })).sort((a, b) => b.similarity - a.similarity);
      const found = slab.search(query, 10);
      for (const hit of found) expect(Math.abs(hit.similarity - dot(vectors[hit.docId]!, query))).toBeLessThan(0.01);
      const truth = new Set(exact.slice(0, 10).map((n) => n.docId));
      overlap += found.filter((n) => truth.has(n.docId)).length;
      // Only the given docs, best first.
      const only = [3, 17, 4999, 12345];
      expect(slab.search(query, 10, only).map((n) => n.docId).sort((a, b) => a - b)).toEqual([3, 17, 4999]);
    }
    expect(overlap / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
  });

  it('stores a zero vector as zeros, reuses deleted slots and keeps vectors as it grows', () => {
    const slab = new VectorSlab(4, 2);
    slab.set(1, new Float32Array(4));
    expect([...slab.get(1)!]).toEqual([0, 0, 0, 0]);
    expect(slab.search(Float32Array.of(1, 0, 0, 0), 5)).toEqual([{ docId: 1, similarity: 0 }]);
    for (let i = 2; i < 40; i++) slab.set(i, Float32Array.of(i, -i, 0.5, 0));
    slab.delete(7);
    slab.delete(7);
    expect(slab.has(7)).toBe(false);
    expect(slab.get(7)).toBeUndefined();
    expect(slab.copyTo(7, new Float32Array(4), 0)).toBe(false);
    slab.set(100, Float32Array.of(0, 0, 0, 3));
    expect(slab.size).toBe(39);
    expect([...slab.get(100)!]).toEqual([0, 0, 0, 3]);
    const out = new Float32Array(8);
    expect(slab.copyTo(39, out, 4)).toBe(true);
    expect([...out.subarray(4)]).toEqual([39, -39, Math.fround(Math.round(0.5 / (39 / 127)) * Math.fround(39 / 127)), 0]);
    expect([...slab.docIds()].sort((a, b) => a - b)).toEqual([...Array.from({ length: 38 }, (_, i) => i + 1).filter((i) => i !== 7), 39, 100].sort((a, b) => a - b));
  });
});
