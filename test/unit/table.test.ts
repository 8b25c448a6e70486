import { describe, expect, it } from 'vitest';
import { clip, oneLine, pairs, table } from '../../src/cli/table.js';

const plain = (width: number) => ({ width, styled: false });

describe('tables on the command line', () => {
  it('aligns columns, cuts the last one to the width with …, and styles the header only on a terminal', () => {
    const rows = [['1', 'strong', 'A short one'], ['22', 'weak', 'A much longer text that will not fit in the width given here']];
    const text = table(['#', 'MATCH', 'TEXT'], rows, plain(40));
    expect(text.split('\n')).toEqual(['#   MATCH   TEXT', '1   strong  A short one', '22  weak    A much longer text that wil…', '']);
    expect(text.split('\n').every((line) => line.length <= 40)).toBe(true);
    expect(table(['#', 'MATCH', 'TEXT'], rows, { width: 40, styled: true }).split('\n')[0]).toBe('\u001b[1m#   MATCH   TEXT\u001b[22m');
  });

  it('leaves out the columns named, in order, until the text has room', () => {
    const rows = [['1', 'semantic/preference', '2026-12-06', 'Kira prefers tea in the morning']];
    expect(table(['#', 'KIND', 'DATE', 'TEXT'], rows, plain(100), [2, 1]).split('\n')[0]).toBe('#  KIND                 DATE        TEXT');
    expect(table(['#', 'KIND', 'DATE', 'TEXT'], rows, plain(50), [2, 1]).split('\n')[1]).toBe('1  semantic/preference  Kira prefers tea in the m…');
    expect(table(['#', 'KIND', 'DATE', 'TEXT'], rows, plain(30), [2, 1]).split('\n')[1]).toBe('1  Kira prefers tea in the mo…');
  });

  it('puts every cell on one line, without control characters, and cuts by characters, not bytes', () => {
    expect(oneLine('a\nb\t c\u001b[31m d\u0007')).toBe('a b c[31m d');
    expect(clip('żółw żółw', 5)).toBe('żółw…');
    expect(clip('abc', 3)).toBe('abc');
    expect(pairs([['memories', '3'], ['embeddings', 'none']], plain(100))).toBe('memories    3\nembeddings  none\n');
  });
});
