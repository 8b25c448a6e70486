import { describe, expect, it } from 'vitest';
import { memoryKeywords } from '../../src/memory/search-text.js';
import { dayTerm, namedDays, resolvedTimeWords, resolveTimeExpressions, saysWhen, WHEN_TERM } from '../../src/memory/time-expressions.js';
import { asksWhen } from '../../src/memory/time-questions.js';

/** What each expression of `text` resolves to from `reference`, as "expression → words". */
const resolved = (text: string, reference: string): string[] =>
  resolveTimeExpressions(text, reference).map((r) => `${r.text} → ${resolvedTimeWords(r.text, reference).replace(/ ymd\d{8}/g, '')}`);

// 8 May 2023 was a Monday.
const MONDAY = '2023-05-08T13:56:00.000Z';

describe('resolveTimeExpressions', () => {
  it('resolves days: yesterday, last night, tomorrow, the day before yesterday', () => {
    expect(resolved('I went there yesterday.', MONDAY)).toEqual(['yesterday → 7 May 2023']);
    expect(resolved('My mom and I made dinner last night!', MONDAY)).toEqual(['last night → 7 May 2023']);
    expect(resolved('Tomorrow is my birthday', MONDAY)).toEqual(['Tomorrow → 9 May 2023']);
    expect(resolved('the day before yesterday and the day after tomorrow', MONDAY)).toEqual([
      'the day before yesterday → 6 May 2023',
      'the day after tomorrow → 10 May 2023',
    ]);
    expect(resolved('three days ago', MONDAY)).toEqual(['three days ago → 5 May 2023']);
  });

  it('crosses month, year and leap-day boundaries', () => {
    expect(resolved('yesterday', '2024-03-01T08:00:00Z')).toEqual(['yesterday → 29 February 2024']);
    expect(resolved('yesterday', '2023-01-01T08:00:00Z')).toEqual(['yesterday → 31 December 2022']);
    expect(resolved('tomorrow', '2023-12-31T23:59:00Z')).toEqual(['tomorrow → 1 January 2024']);
    expect(resolved('next month', '2023-12-15T10:00:00Z')).toEqual(['next month → January 2024']);
    expect(resolved('last month', '2023-01-10T10:00:00Z')).toEqual(['last month → December 2022']);
    expect(resolved('three months ago', '2023-02-10T10:00:00Z')).toEqual(['three months ago → November 2022']);
    // The weekend before Wednesday 4 January 2023 spans the new year.
    expect(resolved('last weekend', '2023-01-04T10:00:00Z')).toEqual(['last weekend → 31 December 2022 1 January 2023']);
  });

  it('resolves weekday names after "last" and "next" to the nearest such day before or after, never the day itself', () => {
    expect(resolved('Last Friday I painted a sunrise', MONDAY)).toEqual(['Last Friday → 5 May 2023']);
    expect(resolved('see you next Friday', MONDAY)).toEqual(['next Friday → 12 May 2023']);
    const friday = '2023-05-12T10:00:00Z';
    expect(resolved('last Friday', friday)).toEqual(['last Friday → 5 May 2023']);
    expect(resolved('next Friday', friday)).toEqual(['next Friday → 19 May 2023']);
    expect(resolved('last Sunday', '2023-07-31T13:59:00Z')).toEqual(['last Sunday → 30 July 2023']);
  });

  it('reads "this past" as "last", and weekdays shortened (but not "sat" and "sun", which are words too)', () => {
    expect(resolved('that roadtrip this past weekend was insane', MONDAY)).toEqual(['this past weekend → 6 7 May 2023']);
    expect(resolved('this past week', MONDAY)).toEqual(['this past week → May 2023']);
    expect(resolved('this past month', MONDAY)).toEqual(['this past month → April 2023']);
    expect(resolved('This past Friday we met', MONDAY)).toEqual(['This past Friday → 5 May 2023']);
    expect(resolved('Last Fri I finally took my kids', MONDAY)).toEqual(['Last Fri → 5 May 2023']);
    expect(resolved('see you next Thurs.', MONDAY)).toEqual(['next Thurs → 11 May 2023']);
    expect(resolved('when I last sat down to paint', MONDAY)).toEqual([]);
  });

  it('resolves weeks (Monday to Sunday) to their months, and weekends to their two days', () => {
    expect(resolved('last week we went camping', MONDAY)).toEqual(['last week → May 2023']);
    expect(resolved('last week', '2023-06-05T10:00:00Z')).toEqual(['last week → May 2023 June 2023']);
    expect(resolved('I got a puppy two weeks ago!', '2023-08-11T00:10:00Z')).toEqual(['two weeks ago → July 2023']);
    expect(resolved('a couple of weeks ago', MONDAY)).toEqual(['a couple of weeks ago → April 2023']);
    expect(resolved('two weekends ago I ran a race', MONDAY)).toEqual(['two weekends ago → 29 30 April 2023']);
    // Said on a Saturday, "last weekend" is the one before, and "this weekend" is today and tomorrow.
    expect(resolved('two weekends ago', '2023-05-13T10:00:00Z')).toEqual(['two weekends ago → 29 30 April 2023']);
    expect(resolved('last weekend', '2023-05-13T10:00:00Z')).toEqual(['last weekend → 6 7 May 2023']);
    expect(resolved('this weekend we are going hiking', MONDAY)).toEqual(['this weekend → 13 14 May 2023']);
    expect(resolved('this weekend', '2023-05-14T10:00:00Z')).toEqual(['this weekend → 13 14 May 2023']);
    expect(resolved('next weekend', MONDAY)).toEqual(['next weekend → 20 21 May 2023']);
  });

  it('resolves months, years and seasons', () => {
    expect(resolved('next month I start school', MONDAY)).toEqual(['next month → June 2023']);
    expect(resolved('last year', MONDAY)).toEqual(['last year → 2022']);
    expect(resolved('next year', MONDAY)).toEqual(['next year → 2024']);
    expect(resolved('He was part of our family; we got him 10 years ago', MONDAY)).toEqual(['10 years ago → 2013']);
    expect(resolved('I started volunteering here about a year ago', '2023-08-03T18:20:00Z')).toEqual(['a year ago → August 2022']);
    expect(resolved('last May', MONDAY)).toEqual(['last May → May 2022']);
    expect(resolved('next March', MONDAY)).toEqual(['next March → March 2024']);
    expect(resolved('last June', MONDAY)).toEqual(['last June → June 2022']);
    expect(resolved('next June', MONDAY)).toEqual(['next June → June 2023']);
    // Said in August, last summer is the one before: this one is not over.
    expect(resolved('camping last summer', '2023-08-11T00:10:00Z')).toEqual(['last summer → summer 2022']);
    expect(resolved('last summer', '2023-09-01T10:00:00Z')).toEqual(['last summer → summer 2023']);
    expect(resolved('this summer', MONDAY)).toEqual(['this summer → summer 2023']);
    expect(resolved('next summer', '2023-07-01T10:00:00Z')).toEqual(['next summer → summer 2024']);
    expect(resolved('last fall', MONDAY)).toEqual(['last fall → autumn 2022']);
    // A winter is named by both its years.
    expect(resolved('last winter', MONDAY)).toEqual(['last winter → winter 2022 2023']);
    expect(resolved('this winter', '2023-01-15T10:00:00Z')).toEqual(['this winter → winter 2022 2023']);
  });

  it('finds every expression of a text, in order, each words once', () => {
    expect(resolved('Yesterday was great, and next month we move; last week was hard.', MONDAY)).toEqual([
      'Yesterday → 7 May 2023',
      'next month → June 2023',
      'last week → May 2023',
    ]);
    expect(resolveTimeExpressions('yesterday', MONDAY)[0]).toMatchObject({ index: 0, granularity: 'day', first: new Date('2023-05-07T00:00:00Z'), last: new Date('2023-05-07T00:00:00Z') });
  });

  it('leaves alone what its own date does not settle: explicit dates, bare weekdays, "this Monday", "the last Friday of the month", durations, vague times', () => {
    for (const text of [
      'back in 2022 I moved',
      'in May 2023',
      'on Friday I will go',
      'this Monday was hard',
      'the last Friday of the month',
      'the last week of the trip was the best',
      'the week before the wedding',
      'I have been painting for 5 years now',
      'a few days ago',
      'recently',
      'lately',
      'I may go, sat down at 5',
      'the last summer we spent there',
      'yesterdays',
      'zero days ago',
    ]) {
      expect(resolveTimeExpressions(text, MONDAY), text).toEqual([]);
    }
  });

  it('gives nothing for an invalid reference', () => {
    expect(resolveTimeExpressions('yesterday', 'not a date')).toEqual([]);
    expect(resolvedTimeWords('yesterday', 'not a date')).toBe('');
  });
});

describe('the terms a question and a memory share', () => {
  it('writes a day as one index term', () => {
    expect(dayTerm('2023-05-08T13:56:00.000Z')).toBe('ymd20230508');
    // The UTC day, whatever offset the time was written with.
    expect(dayTerm('2023-05-08T23:30:00-02:00')).toBe('ymd20230509');
    expect(dayTerm('2023-05-08')).toBe('ymd20230508');
    expect(resolvedTimeWords('yesterday and last weekend', MONDAY)).toBe('7 May 2023 ymd20230507\n6 7 May 2023 ymd20230506 ymd20230507');
  });

  it('finds days named in full, in either order, and skips impossible ones', () => {
    expect(namedDays('Who did Maria have dinner with on May 3, 2023?')).toEqual(['2023-05-03']);
    expect(namedDays('What movie did Joanna watch on 1 May, 2022?')).toEqual(['2022-05-01']);
    expect(namedDays('on the 3rd of May 2023 or Sept. 14th, 2022')).toEqual(['2023-05-03', '2022-09-14']);
    expect(namedDays('31 February 2023, in May 2023, on May 3')).toEqual([]);
  });

  it('tells questions that ask when from others', () => {
    for (const q of ['When did Maria donate her car?', 'What year did John start?', 'In which month did they move?', 'How long ago was the trip?', 'How long has Nate had his turtles?']) {
      expect(asksWhen(q), q).toBe(true);
    }
    // A question about a time it names is about when too.
    for (const q of ['What physical transformation did Nate undergo in April 2022?', 'What movie did Joanna watch on 1 May, 2022?', 'Where did they live in 2019?', 'What happened on May 3rd, 2023?']) {
      expect(asksWhen(q), q).toBe(true);
    }
    for (const q of ['What did Maria donate?', 'Who went camping when it rained?', 'Where is the key?', 'What is in room 2019?', 'May I ask what 2022 means?']) expect(asksWhen(q), q).toBe(false);
  });

  it('tells memories that say when from others', () => {
    for (const text of ['I donated my car yesterday', 'We moved in 2019', 'I have had them for 3 years now', 'Today was fun', 'since March it has rained']) {
      expect(saysWhen(text, MONDAY), text).toBe(true);
    }
    for (const text of ['I like turtles', 'That movie is awesome', 'I may come along']) expect(saysWhen(text, MONDAY), text).toBe(false);
  });

  it('gives a memory its date in words only when it was told when, and its resolved expressions and WHEN_TERM always', () => {
    expect(memoryKeywords('I adopted a pup last week', MONDAY, true)).toBe(`8 May 2023 ymd20230508\nMay 2023\n${WHEN_TERM}`);
    expect(memoryKeywords('I adopted a pup last week', MONDAY, false)).toBe(`May 2023\n${WHEN_TERM}`);
    expect(memoryKeywords('I like turtles', MONDAY, false)).toBeUndefined();
    expect(memoryKeywords('I like turtles', MONDAY, true)).toBe('8 May 2023 ymd20230508');
  });
});
