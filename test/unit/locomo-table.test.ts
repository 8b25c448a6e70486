import { describe, expect, it } from 'vitest';
import { splitTable, type SplitReport } from '../../scripts/eval/locomo-table.js';

const summary = (questions: number, r10: number, hit: number) => ({ questions, 'R@10': r10, 'hit@10': hit });

const dev: SplitReport = {
  modes: {
    keyword: { overall: summary(3, 0.5, 0.667), by_category: { '4-single-hop': summary(1, 1, 1), '1-multi-hop': summary(2, 0.25, 0.5) } },
    hybrid: { overall: summary(3, 0.6, 0.667), by_category: { '1-multi-hop': summary(2, 0.4, 0.5), '4-single-hop': summary(1, 1, 1) } },
  },
};
const validation: SplitReport = {
  modes: {
    keyword: { overall: summary(2, 0.75, 1), by_category: { '2-temporal': summary(1, 0.5, 1), '4-single-hop': summary(1, 1, 1) } },
  },
};

describe('splitTable', () => {
  const table = splitTable({ dev, validation }, ['R@10', 'hit@10']);
  const lines = table.trim().split('\n');

  it('puts each metric of dev next to the same metric of validation', () => {
    expect(lines[0]).toBe('mode: keyword');
    expect(lines[1]).toBe('| category | n dev | n validation | R@10 dev | R@10 validation | hit@10 dev | hit@10 validation |');
  });

  it('lists the categories of both splits in their numeric order, then overall; what a split lacks is "–"', () => {
    expect(lines.slice(3, 7)).toEqual([
      '| multi-hop | 2 | – | 0.250 | – | 0.500 | – |',
      '| temporal | – | 1 | – | 0.500 | – | 1.000 |',
      '| single-hop | 1 | 1 | 1.000 | 1.000 | 1.000 | 1.000 |',
      '| overall | 3 | 2 | 0.500 | 0.750 | 0.667 | 1.000 |',
    ]);
  });

  it('has one table per mode, a mode one split did not run included', () => {
    const hybrid = table.trim().split('\n\n')[1]!.split('\n');
    expect(hybrid[0]).toBe('mode: hybrid');
    expect(hybrid.at(-1)).toBe('| overall | 3 | – | 0.600 | – | 0.667 | – |');
    expect(table.split('\n\n')).toHaveLength(2);
  });
});
