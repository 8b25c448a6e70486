/**
 * Relative time expressions in a memory's text ("yesterday", "last Friday",
 * "two weekends ago", "next month", "last summer"), resolved against when the
 * memory happened (its occurred_at), so that a question naming the date finds
 * a turn that only said "last week". Hand-written and deliberately narrow:
 * only expressions whose meaning does not depend on context beyond the
 * memory's own date are resolved; "on Friday", "this Monday", "in May",
 * "recently", "the week before" (before what?) and durations ("for 5 years")
 * are left alone. Dates are calendar days in UTC, as `dateWords` writes
 * occurred_at; weeks run Monday to Sunday; seasons are the northern
 * meteorological ones (summer: June to August; winter: December to February).
 */
export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * One keyword index term for a calendar day ("ymd20230508"): a question
 * naming that day ("on May 8, 2023") is matched by it as one rare word, rather
 * than by "8", "may" and "2023", each common across a store of dated memories.
 */
export function dayTerm(iso: string): string {
  return `ymd${new Date(iso).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** A date in words ("8 May 2023"), so "when…" and "in May" queries match the keyword index. */
export function dateWords(iso: string): string {
  const date = new Date(iso);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** How precise a resolved expression is. */
export type TimeGranularity = 'day' | 'weekend' | 'week' | 'month' | 'season' | 'year';

/** One resolved expression: its text as written and the calendar days it covers (UTC midnights, `last` inclusive). */
export interface ResolvedTime {
  readonly text: string;
  readonly index: number;
  readonly granularity: TimeGranularity;
  readonly first: Date;
  readonly last: Date;
  /** For a season: its name ("summer"). */
  readonly season?: string;
}

const DAY_MS = 86_400_000;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const COUNTS: Readonly<Record<string, number>> = {
  a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  'a couple of': 2, couple: 2, 'a couple': 2,
};
const COUNT = String.raw`(\d{1,3}|a couple of|a couple|couple of|couple|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)`;
/** First month of each season (0-based), northern meteorological seasons. */
export const SEASONS: Readonly<Record<string, number>> = { spring: 2, summer: 5, autumn: 8, fall: 8, winter: 11 };

export const utcDay = (year: number, month: number, day: number): Date => new Date(Date.UTC(year, month, day));
const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY_MS);
/** The Monday starting the week that holds `date`. */
const mondayOf = (date: Date): Date => addDays(date, -((date.getUTCDay() + 6) % 7));
const monthSpan = (year: number, month: number): [Date, Date] => [utcDay(year, month, 1), utcDay(year, month + 1, 0)];
const countOf = (word: string): number | undefined => (/^\d+$/.test(word) ? Number(word) : COUNTS[word.replace(/\s+/g, ' ')]);

interface Rule {
  readonly pattern: RegExp;
  /** The days covered, or null to leave the match alone. */
  readonly resolve: (match: RegExpExecArray, day: Date) => { granularity: TimeGranularity; first: Date; last: Date; season?: string } | null;
}

const RULES: readonly Rule[] = [
  {
    pattern: /\b(?:the\s+)?day\s+before\s+yesterday\b/g,
    resolve: (_m, day) => ({ granularity: 'day', first: addDays(day, -2), last: addDays(day, -2) }),
  },
  {
    pattern: /\b(?:the\s+)?day\s+after\s+tomorrow\b/g,
    resolve: (_m, day) => ({ granularity: 'day', first: addDays(day, 2), last: addDays(day, 2) }),
  },
  {
    pattern: /\b(yesterday|last\s+night|tomorrow)\b/g,
    resolve: (m, day) => {
      const offset = m[1] === 'tomorrow' ? 1 : -1;
      return { granularity: 'day', first: addDays(day, offset), last: addDays(day, offset) };
    },
  },
  {
    // "last Friday" (or "this past Friday", "last Fri"): the latest Friday before the day; "next Friday": the first after it.
    // "Sat" and "Sun" are not read as days: "when I last sat down".
    pattern: /\b(the\s+)?(last|this\s+past|next)\s+(sunday|monday|tuesday|wednesday|thursday|friday|saturday|mon|tues?|wed|thu(?:rs?)?|fri)\b/g,
    resolve: (m, day) => {
      if (m[1]) return null; // "the last Friday of the month"
      const target = WEEKDAYS.findIndex((name) => name.startsWith(m[3]!.slice(0, 3)));
      const diff = m[2] === 'next' ? ((target - day.getUTCDay() + 6) % 7) + 1 : -(((day.getUTCDay() - target + 6) % 7) + 1);
      return { granularity: 'day', first: addDays(day, diff), last: addDays(day, diff) };
    },
  },
  {
    // "this past weekend" is "last weekend".
    pattern: /\b(the\s+)?(last|this\s+past|this|next)\s+(week(?:end)?|month|year)\b/g,
    resolve: (m, day) => {
      if (m[1] && m[2] !== 'last') return null;
      if (m[1] && m[3] !== 'weekend') return null; // "the last week of the trip"; "the last weekend" reads as "last weekend"
      const step = m[2] === 'last' || m[2]!.startsWith('this ') ? -1 : m[2] === 'next' ? 1 : 0;
      return spanOf(m[3]!, step, day);
    },
  },
  {
    pattern: new RegExp(String.raw`\b${COUNT}\s+(day|week(?:end)?|month|year)s?\s+ago\b`, 'g'),
    resolve: (m, day) => {
      const n = countOf(m[1]!);
      if (n === undefined || n < 1) return null;
      const unit = m[2]!;
      if (unit === 'day') return { granularity: 'day', first: addDays(day, -n), last: addDays(day, -n) };
      if (unit === 'week') {
        const monday = mondayOf(addDays(day, -7 * n));
        return { granularity: 'week', first: monday, last: addDays(monday, 6) };
      }
      // A year ago from 3 August 2023 is about August 2022: as precise as a month; ten years ago, a year.
      if (unit === 'year' && n === 1) return monthOf(day.getUTCFullYear() - 1, day.getUTCMonth());
      return spanOf(unit, -n, day);
    },
  },
  {
    pattern: /\b(the\s+)?(last|this|next)\s+(spring|summer|autumn|fall|winter)\b/g,
    resolve: (m, day) => {
      if (m[1]) return null;
      return seasonOf(m[3]!, m[2] as 'last' | 'this' | 'next', day);
    },
  },
  {
    // "last May": the latest May before this month; "next May": the first after it.
    pattern: /\b(the\s+)?(last|next)\s+(january|february|march|april|may|june|july|august|september|october|november|december)\b/g,
    resolve: (m, day) => {
      if (m[1]) return null;
      const target = MONTHS.findIndex((name) => name.toLowerCase() === m[3]);
      const month = day.getUTCMonth();
      const year = day.getUTCFullYear();
      if (m[2] === 'last') return monthOf(target < month ? year : year - 1, target);
      return monthOf(target > month ? year : year + 1, target);
    },
  },
];

function monthOf(year: number, month: number): { granularity: TimeGranularity; first: Date; last: Date } {
  const [first, last] = monthSpan(year, month);
  return { granularity: 'month', first, last };
}

/** The week, weekend, month or year `step` of them from the one holding the day (0: that one). */
function spanOf(unit: string, step: number, day: Date): { granularity: TimeGranularity; first: Date; last: Date } {
  if (unit === 'week' || unit === 'weekend') {
    const monday = addDays(mondayOf(day), 7 * step);
    return unit === 'week' ? { granularity: 'week', first: monday, last: addDays(monday, 6) } : { granularity: 'weekend', first: addDays(monday, 5), last: addDays(monday, 6) };
  }
  if (unit === 'month') return monthOf(day.getUTCFullYear(), day.getUTCMonth() + step);
  const year = day.getUTCFullYear() + step;
  return { granularity: 'year', first: utcDay(year, 0, 1), last: utcDay(year, 11, 31) };
}

/**
 * "last summer": the latest summer over before the day's month begins (from
 * August 2023, summer 2022); "this summer": the one of the day's year (of the
 * winter that holds or follows the day); "next summer": the first that starts
 * after the day's month.
 */
function seasonOf(name: string, which: 'last' | 'this' | 'next', day: Date): { granularity: TimeGranularity; first: Date; last: Date; season: string } {
  const start = SEASONS[name]!;
  const monthIndex = day.getUTCFullYear() * 12 + day.getUTCMonth();
  // The season's start (as a month count) in the day's year; it lasts three months.
  let first = day.getUTCFullYear() * 12 + start;
  if (which === 'last') {
    while (first + 3 > monthIndex) first -= 12;
  } else if (which === 'next') {
    while (first <= monthIndex) first += 12;
    if (first > monthIndex + 12) first -= 12;
  } else if (start === 11 && day.getUTCMonth() < 2) {
    first -= 12; // this winter, said in January: the one that began in December
  }
  const firstDay = utcDay(Math.floor(first / 12), first % 12, 1);
  const lastDay = utcDay(Math.floor((first + 3) / 12), (first + 3) % 12, 0);
  return { granularity: 'season', first: firstDay, last: lastDay, season: name === 'fall' ? 'autumn' : name };
}

/** The relative time expressions of `text`, resolved against `reference` (an ISO timestamp or a Date), in text order. Invalid references give none. */
export function resolveTimeExpressions(text: string, reference: string | Date): ResolvedTime[] {
  const ref = typeof reference === 'string' ? new Date(reference) : reference;
  if (Number.isNaN(ref.getTime())) return [];
  const day = utcDay(ref.getUTCFullYear(), ref.getUTCMonth(), ref.getUTCDate());
  const lower = text.toLowerCase();
  const found: ResolvedTime[] = [];
  const taken: Array<[number, number]> = [];
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    for (let m = rule.pattern.exec(lower); m; m = rule.pattern.exec(lower)) {
      const start = m.index;
      const end = start + m[0].length;
      // An earlier rule (a longer expression) already took these words.
      if (taken.some(([s, e]) => start < e && end > s)) continue;
      const resolved = rule.resolve(m, day);
      if (!resolved) continue;
      taken.push([start, end]);
      found.push({ text: text.slice(start, end), index: start, ...resolved });
    }
  }
  return found.sort((a, b) => a.index - b.index);
}

const monthYear = (date: Date): string => `${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;

/** A resolved expression in the words people ask in: a day as "3 May 2023", a week or month as "April 2023", a season as "summer 2022", a year as "2022". */
export function timeWords(resolved: ResolvedTime): string {
  const iso = (date: Date): string => date.toISOString();
  switch (resolved.granularity) {
    case 'day':
      return `${dateWords(iso(resolved.first))} ${dayTerm(iso(resolved.first))}`;
    case 'weekend':
      return resolved.first.getUTCMonth() === resolved.last.getUTCMonth()
        ? `${resolved.first.getUTCDate()} ${dateWords(iso(resolved.last))} ${dayTerm(iso(resolved.first))} ${dayTerm(iso(resolved.last))}`
        : `${dateWords(iso(resolved.first))} ${dateWords(iso(resolved.last))} ${dayTerm(iso(resolved.first))} ${dayTerm(iso(resolved.last))}`;
    case 'week':
      return [...new Set([monthYear(resolved.first), monthYear(resolved.last)])].join(' ');
    case 'month':
      return monthYear(resolved.first);
    case 'season':
      // A winter is named by either of its years.
      return [...new Set([resolved.first.getUTCFullYear(), resolved.last.getUTCFullYear()])].reduce((words, year) => `${words} ${year}`, resolved.season!);
    case 'year':
      return String(resolved.first.getUTCFullYear());
  }
}

/** The words of every relative time expression in `text`, resolved against `reference`, one expression a line; empty when there are none. */
export function resolvedTimeWords(text: string, reference: string): string {
  return [...new Set(resolveTimeExpressions(text, reference).map(timeWords))].join('\n');
}

export const MONTH_NAME = String.raw`(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`;
const DAY_NUMBER = String.raw`(\d{1,2})(?:st|nd|rd|th)?`;
const NAMED_DAY_PATTERNS = [
  // "8 May 2023", "8th of May, 2023"
  { pattern: new RegExp(String.raw`\b${DAY_NUMBER}(?:\s+of)?\s*${MONTH_NAME}\.?,?\s*(\d{4})\b`, 'g'), day: 1, month: 2, year: 3 },
  // "May 8, 2023", "May 8th 2023"
  { pattern: new RegExp(String.raw`\b${MONTH_NAME}\.?\s+${DAY_NUMBER},?\s*(\d{4})\b`, 'g'), day: 2, month: 1, year: 3 },
];

/** The calendar days a text names in full (day, month and year, in either order), as ISO dates ("2023-05-08"); impossible dates are skipped. */
export function namedDays(text: string): string[] {
  const lower = text.toLowerCase();
  const days = new Set<string>();
  for (const { pattern, day, month, year } of NAMED_DAY_PATTERNS) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(lower); m; m = pattern.exec(lower)) {
      const monthIndex = MONTHS.findIndex((name) => name.toLowerCase().startsWith(m![month]!.slice(0, 3)));
      const date = utcDay(Number(m[year]), monthIndex, Number(m[day]));
      if (date.getUTCDate() !== Number(m[day]) || date.getUTCMonth() !== monthIndex) continue;
      days.add(date.toISOString().slice(0, 10));
    }
  }
  return [...days];
}

/**
 * The keyword index term of a memory that says when something happened or
 * will ("yesterday", "last week", "in 2022", "on 8 May 2023", "today"): a
 * question asking when looks for it too, so among memories that match its
 * words, those that tell a time come first.
 */
export const WHEN_TERM = 'whentold';

const SAYS_WHEN = /\b(?:(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|few|couple\s+of)\s+(?:days?|weeks?|months?|years?)|(?:19|20)\d{2}|today|tonight|this\s+(?:morning|afternoon|evening)|(?:in|since|on|during|early|late|mid)\s*-?\s*(?:january|february|march|april|may|june|july|august|september|october|november|december))\b/;

/** Whether a text tells a time: a relative expression this module resolves, a year, a full date, "today", or a month named after "in", "since"... */
export function saysWhen(text: string, reference: string): boolean {
  return SAYS_WHEN.test(text.toLowerCase()) || namedDays(text).length > 0 || resolveTimeExpressions(text, reference).length > 0;
}

/** Any valid day: whether an expression is there does not depend on the day it is resolved against. */
const ANY_DAY = new Date(Date.UTC(2000, 0, 1));

/** Whether a text tells a time (as `saysWhen`), whatever day it was written. */
export const tellsTime = (text: string): boolean => SAYS_WHEN.test(text.toLowerCase()) || namedDays(text).length > 0 || resolveTimeExpressions(text, ANY_DAY).length > 0;
