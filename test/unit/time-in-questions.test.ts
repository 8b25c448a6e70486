import { describe, expect, it } from 'vitest';
import { tellsTime } from '../../src/memory/time-expressions.js';
import { fallsIn, fallsWithin, namedPeriods, overlapsPeriod } from '../../src/memory/time-questions.js';

const period = (question: string): Array<{ months: number[]; year: number | null }> =>
  namedPeriods(question).map((p) => ({ months: [...p.months].sort((a, b) => a - b), year: p.year }));
const day = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

describe('namedPeriods', () => {
  it('reads a month named after in, during or of, with or without its year', () => {
    expect(period('When did Melanie go camping in June?')).toEqual([{ months: [5], year: null }]);
    expect(period('What did Jon do during May 2023?')).toEqual([{ months: [4], year: 2023 }]);
    expect(period('Where did she travel in early Aug. 2022?')).toEqual([{ months: [7], year: 2022 }]);
    expect(period('the first week of September, 2021')).toEqual([{ months: [8], year: 2021 }]);
    expect(period('What happened in June of 2020?')).toEqual([{ months: [5], year: 2020 }]);
  });

  it('reads seasons as their months (northern, summer June to August) and years alone as every month', () => {
    expect(period('When did Caroline go to a pride parade during the summer?')).toEqual([{ months: [5, 6, 7], year: null }]);
    expect(period('What did they plant in the spring of 2022?')).toEqual([{ months: [2, 3, 4], year: 2022 }]);
    expect(period('in winter')).toEqual([{ months: [0, 1, 11], year: null }]);
    expect(period('What did Nate win in 2019?')).toEqual([{ months: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], year: 2019 }]);
  });

  it('leaves alone what is not a period a memory falls in: a month as a word, a range, a question naming none', () => {
    expect(period('May I ask what Jon did?')).toEqual([]);
    expect(period('Did they march in the parade?')).toEqual([]);
    expect(period('What did she do before June?')).toEqual([]);
    expect(period('How long has he lived there since 2019?')).toEqual([]);
    expect(period('When did Caroline join the group?')).toEqual([]);
  });
});

describe('overlapsPeriod and fallsIn', () => {
  const june = namedPeriods('in June')[0]!;
  const june2023 = namedPeriods('in June 2023')[0]!;
  const summer = namedPeriods('during the summer')[0]!;

  it('checks every month of a span, across years', () => {
    expect(overlapsPeriod(june, day('2021-06-30'), day('2021-06-30'))).toBe(true);
    expect(overlapsPeriod(june2023, day('2021-06-30'), day('2021-06-30'))).toBe(false);
    expect(overlapsPeriod(june2023, day('2023-05-29'), day('2023-06-04'))).toBe(true);
    expect(overlapsPeriod(june, day('2022-07-01'), day('2023-05-31'))).toBe(false);
    expect(overlapsPeriod(namedPeriods('in winter')[0]!, day('2022-12-31'), day('2022-12-31'))).toBe(true);
  });

  it('judges a memory by the times its text tells, else by when it happened', () => {
    // Said on Thursday 6 July 2023: two weekends ago is 24 and 25 June.
    expect(fallsIn(june2023, 'I marched in a pride parade two weekends ago.', '2023-07-06T18:00:00Z')).toBe(true);
    expect(fallsIn(june2023, 'I marched in a pride parade.', '2023-07-06T18:00:00Z')).toBe(false);
    expect(fallsIn(summer, 'Pride parade with my friends, what a day.', '2023-08-20T09:00:00Z')).toBe(true);
    // Said in June 2023, about last year: not about June 2023 (though about some June).
    expect(fallsIn(june2023, 'We had a blast at the fest last year.', '2023-06-10T09:00:00Z')).toBe(false);
    expect(fallsIn(june, 'We had a blast at the fest last year.', '2023-06-10T09:00:00Z')).toBe(true);
    expect(fallsIn(june, 'anything', 'not a date')).toBe(false);
  });
});

describe('fallsWithin', () => {
  it('judges a memory by the times its text tells overlapping the days, else by the day it happened', () => {
    const [first, last] = [day('2023-05-01'), day('2023-05-07')];
    expect(fallsWithin(first, last, 'I cooked a soup.', '2023-05-07T23:30:00Z')).toBe(true);
    expect(fallsWithin(first, last, 'I cooked a soup.', '2023-05-08T00:30:00Z')).toBe(false);
    // Said on Monday 8 May: yesterday is 7 May.
    expect(fallsWithin(first, last, 'I cooked a soup yesterday.', '2023-05-08T10:00:00Z')).toBe(true);
    // Said in that week, about last month.
    expect(fallsWithin(first, last, 'Last month I cooked a soup.', '2023-05-03T10:00:00Z')).toBe(false);
    expect(fallsWithin(first, last, 'anything', 'not a date')).toBe(false);
  });
});

describe('tellsTime', () => {
  it('is true of a text telling a time, whatever day it was written', () => {
    for (const text of ['I went yesterday.', 'Took a trip last week to Rome.', 'Back in 2019.', 'on May 3, 2023', 'for 3 years now', 'Today was great', 'in March']) {
      expect(tellsTime(text), text).toBe(true);
    }
    for (const text of ['I love Rome.', 'See you on Friday', 'The parade was huge.']) expect(tellsTime(text), text).toBe(false);
  });
});
