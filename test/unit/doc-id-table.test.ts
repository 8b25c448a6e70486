import { describe, expect, it } from 'vitest';
import { DocIdTable } from '../../src/vector/doc-id-table.js';
import { seeded } from '../../scripts/bench/data.js';

// Doc id → a small integer (a slab slot, a live label), held in a flat table
// for the dense ids SQLite gives and in a Map for any other id. Checked against
// a Map under the same random operations, ids of every kind mixed: small,
// large, far off, negative, fractional; values rewritten as well as added.

describe('doc id table', () => {
  it('agrees with a Map under random adds and deletes of ids of every kind', () => {
    const next = seeded(7);
    const slots = new DocIdTable();
    const expected = new Map<number, number>();
    const kinds = [
      () => Math.floor(next() * 5000),
      () => 5000 + Math.floor(next() * 3_000_000),
      () => 2 ** 31 + Math.floor(next() * 1000),
      () => -1 - Math.floor(next() * 100),
      () => Math.floor(next() * 100) + 0.5,
    ];
    for (let i = 0; i < 60_000; i++) {
      const docId = kinds[Math.floor(next() * kinds.length)]!();
      if (expected.has(docId) && next() < 0.5) {
        slots.delete(docId);
        expected.delete(docId);
      } else {
        slots.set(docId, i);
        expected.set(docId, i);
      }
    }
    expect(slots.size).toBe(expected.size);
    for (const [docId, slot] of expected) expect(slots.get(docId)).toBe(slot);
    expect([...slots.keys()].sort((a, b) => a - b)).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const docId of [3, 4999, 2 ** 31 + 1001, -500, 0.25, 2 ** 40]) expect(slots.has(docId)).toBe(expected.has(docId));
  });

  it('keeps an id past the table in the Map until the table grows over it', () => {
    const slots = new DocIdTable();
    // Far beyond what one held id may widen the table to.
    slots.set(50_000_000, 1);
    expect(slots.get(50_000_000)).toBe(1);
    for (let docId = 0; docId < 20_000; docId++) slots.set(docId, docId + 2);
    expect(slots.size).toBe(20_001);
    expect(slots.get(19_999)).toBe(20_001);
    expect(slots.get(50_000_000)).toBe(1);
    slots.delete(50_000_000);
    slots.delete(50_000_000);
    expect(slots.size).toBe(20_000);
    expect(slots.has(50_000_000)).toBe(false);
  });
});
