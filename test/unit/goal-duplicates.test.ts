import { describe, expect, it } from 'vitest';
import { findDuplicateGoals } from '../../src/memory/goal-duplicates.js';

const active = [
  { id: 'A', title: 'Ship the billing export feature', description: null },
  { id: 'B', title: 'Migrate the database to Postgres', description: 'move off MySQL' },
];

describe('findDuplicateGoals', () => {
  it('reports an active goal with nearly the same title', () => {
    const found = findDuplicateGoals({ title: 'Ship billing exports', description: null }, active);
    expect(found.map((d) => d.id)).toEqual(['A']);
    expect(found[0]!.similarity).toBeGreaterThanOrEqual(0.5);
  });

  it('reports nothing for an unrelated goal', () => {
    expect(findDuplicateGoals({ title: 'Write the onboarding guide', description: null }, active)).toEqual([]);
  });
});
