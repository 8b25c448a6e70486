/*
 * Time in questions: whether a question asks when, and the period it names
 * ("in June", "during the summer", "in 2022"), with whether a memory is about
 * that period. Memories' own times are read by time-expressions.ts.
 */
import { MONTH_NAME, MONTHS, namedDays, resolveTimeExpressions, SEASONS, utcDay } from './time-expressions.js';

const ASKS_WHEN = /^\W*(?:when|since\s+when|(?:in\s+)?(?:what|which)\s+(?:year|month|day|date|week|weekend|season)|how\s+long|what\s+time)\b/i;

const NAMES_MONTH_OR_YEAR = new RegExp(String.raw`\b${MONTH_NAME}\.?,?\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?(?:19|20)\d{2}\b|\b(?:in|during|since|before|after)\s+(?:19|20)\d{2}\b`, 'i');

/** Whether a question asks when ("When did…", "What year…", "How long ago…") or about a time it names ("…in April 2022?", "…on 1 May, 2022?", "…in 2019?"). */
export const asksWhen = (question: string): boolean => ASKS_WHEN.test(question) || NAMES_MONTH_OR_YEAR.test(question) || namedDays(question).length > 0;

/** A time a question names without naming a day: some months of the year (all twelve for a year alone), in one year or in any. */
export interface NamedPeriod {
  readonly months: ReadonlySet<number>;
  readonly year: number | null;
}

const SEASON_MONTHS = (name: string): number[] => {
  const first = SEASONS[name]!;
  return [first, (first + 1) % 12, (first + 2) % 12];
};
const monthIndexOf = (name: string): number => MONTHS.findIndex((month) => month.toLowerCase().startsWith(name.slice(0, 3)));
const PERIOD_PATTERNS: ReadonlyArray<{ pattern: RegExp; months: (m: RegExpExecArray) => number[]; year: (m: RegExpExecArray) => number | null }> = [
  {
    // "in June", "during May 2023", "in early August", "in June of 2022"
    pattern: new RegExp(String.raw`\b(?:in|during|of)\s+(?:(?:early|late|mid)[\s-]+)?${MONTH_NAME}\b\.?(?:,?\s+(?:of\s+)?((?:19|20)\d{2}))?`, 'g'),
    months: (m) => [monthIndexOf(m[1]!)],
    year: (m) => (m[2] ? Number(m[2]) : null),
  },
  {
    // "during the summer", "in summer 2022", "in the winter of 2021"
    pattern: /\b(?:in|during|over)\s+(?:the\s+)?(spring|summer|autumn|fall|winter)\b(?:,?\s+(?:of\s+)?((?:19|20)\d{2}))?/g,
    months: (m) => SEASON_MONTHS(m[1]!),
    year: (m) => (m[2] ? Number(m[2]) : null),
  },
  {
    // "in 2022", "during 2019"
    pattern: /\b(?:in|during)\s+((?:19|20)\d{2})\b/g,
    months: () => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    year: (m) => Number(m[1]),
  },
];

/**
 * The months, seasons and years a question names after "in", "during" or
 * "of" ("…camping in June?", "…during the summer?", "…in May 2023?", "…in
 * 2022?"). A day named in full is left to `namedDays`; "before June" or
 * "since 2020" are not periods a memory falls in, and are left alone.
 */
export function namedPeriods(question: string): NamedPeriod[] {
  const lower = question.toLowerCase();
  const periods: NamedPeriod[] = [];
  const taken: Array<[number, number]> = [];
  for (const { pattern, months, year } of PERIOD_PATTERNS) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(lower); m; m = pattern.exec(lower)) {
      const [start, end] = [m.index, m.index + m[0].length];
      if (taken.some(([s, e]) => start < e && end > s)) continue;
      taken.push([start, end]);
      periods.push({ months: new Set(months(m)), year: year(m) });
    }
  }
  return periods;
}

/** Whether any calendar day from `first` to `last` (UTC, inclusive) falls in the period. */
export function overlapsPeriod(period: NamedPeriod, first: Date, last: Date): boolean {
  let year = first.getUTCFullYear();
  let month = first.getUTCMonth();
  const end = last.getUTCFullYear() * 12 + last.getUTCMonth();
  for (let i = 0; year * 12 + month <= end && i < 240; i += 1) {
    if (period.months.has(month) && (period.year === null || period.year === year)) return true;
    month += 1;
    if (month === 12) [month, year] = [0, year + 1];
  }
  return false;
}

/**
 * Whether a memory that happened at `occurredAt` (ISO) with this text is
 * about the period: the times its text tells resolve into it ("two weekends
 * ago", said in early July, into June), or, when it tells none, it happened
 * then. A memory saying "last year" is about last year, not about the day it
 * was said.
 */
export function fallsIn(period: NamedPeriod, text: string, occurredAt: string): boolean {
  const day = new Date(occurredAt);
  if (Number.isNaN(day.getTime())) return false;
  const told = resolveTimeExpressions(text, occurredAt);
  if (told.length > 0) return told.some((time) => overlapsPeriod(period, time.first, time.last));
  return overlapsPeriod(period, day, day);
}

/**
 * Whether a memory that happened at `occurredAt` (ISO) with this text is
 * about the days from `first` to `last` (UTC midnights, inclusive): as
 * `fallsIn`, the times its text tells overlap them, or, telling none, it
 * happened on one of them.
 */
export function fallsWithin(first: Date, last: Date, text: string, occurredAt: string): boolean {
  const at = new Date(occurredAt);
  if (Number.isNaN(at.getTime())) return false;
  const told = resolveTimeExpressions(text, occurredAt);
  if (told.length > 0) return told.some((time) => time.first <= last && first <= time.last);
  const day = utcDay(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  return first <= day && day <= last;
}
