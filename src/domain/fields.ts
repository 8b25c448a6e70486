import { z } from 'zod';

/**
 * Attach a description and one example to a schema. Every field of every tool
 * goes through this so the generated JSON Schema tells the model what to send.
 */
export function described<T extends z.ZodType>(schema: T, description: string, example?: unknown): T {
  return schema.meta(example === undefined ? { description } : { description, examples: [example] });
}

/**
 * The JSON Schema keyword that tells tools/list to leave a field's
 * description out (tools/compact-schema.ts): for a field whose name and values
 * say enough where every conversation pays for each byte, or whose meaning
 * another tool's listing gives. schemas/ keeps the description.
 */
export const BARE = 'x-listed-bare';

/** `described`, with the description left out of tools/list (see BARE). */
export function bare<T extends z.ZodType>(schema: T, description: string, example: unknown): T {
  return schema.meta({ description, examples: [example], [BARE]: true });
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** True for an ISO 8601 date that exists on the calendar: no 2025-02-30 rolling over to March. */
export function isCalendarTimestamp(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match || Number.isNaN(Date.parse(text))) return false;
  const [year, month, day, hour = '0', minute = '0', second = '0'] = match.slice(1);
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  return (
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day) &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59
  );
}

/** An ISO 8601 date or date-time; normalised to UTC ISO by `toIsoTimestamp`. */
export const Timestamp = z
  .string()
  // The length first, so no long string reaches the pattern; inside the refinement, so the JSON Schema says "ISO 8601", not a length.
  .refine((text) => text.length <= 40 && isCalendarTimestamp(text), {
    message: 'must be an ISO 8601 date or date-time, e.g. 2025-05-08T13:56:00Z or 2025-05-08',
  });

const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Normalise an accepted timestamp to `YYYY-MM-DDTHH:mm:ss.sssZ`. A date-time
 * without an offset is read as UTC, not as the server's local time, so the same
 * call stores the same instant on every machine.
 */
export function toIsoTimestamp(value: string): string {
  const isDateTime = value.length > 10;
  const text = isDateTime && !HAS_OFFSET.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  return new Date(text).toISOString();
}

/** No control character: C0 (tab, newline, escape, …), DEL or C1. The one rule for labels, ids and keys. */
export const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/** Every control character (C0, DEL, C1), to replace them where text is taken rather than refused (a client's name). */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/gu;

/**
 * A short single-line label (an id, kind, tag, thread, source or title).
 * Labels are printed verbatim in the text blocks agents and UIs read, where a
 * newline could forge a line and an escape sequence drive a terminal; free
 * text (content, descriptions, notes) keeps its tabs and newlines.
 */
export function singleLine<T extends z.ZodString>(schema: T): T {
  return schema.regex(NO_CONTROL_CHARACTERS, { message: 'must not contain control characters (tab, newline, escape, …); use a single line of text' }) as T;
}

export const Id = singleLine(z.string().min(1).max(64));

export const Namespace = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:\/-]*$/, {
    message: 'letters, digits and . _ : / - only, starting with a letter or digit',
  });

/** The message of a list field given something else than a list: what to send instead. */
export function expectedList(what: string): { error: (issue: { code: string }) => string | undefined } {
  return { error: (issue) => (issue.code === 'invalid_type' ? `expected a list of ${what}` : undefined) };
}

/**
 * A list of strings that also takes one lone string as a one-item list
 * (`tags: "ui"` is `["ui"]`): models often send a single value where a list
 * is expected, and it can only mean that. Anything else that is not a list
 * gets "expected a list of strings".
 */
export function stringList<Item extends z.ZodType<string>>(item: Item, limits: { min?: number; max: number }) {
  const list = z.array(item, expectedList('strings, e.g. ["…"]')).max(limits.max);
  return z.preprocess((value) => (typeof value === 'string' ? [value] : value), limits.min === undefined ? list : list.min(limits.min));
}

export const Tag = singleLine(z.string().trim().min(1).max(64));
export const Tags = stringList(Tag, { max: 32 });

/** A JSON object of arbitrary user data; its size and depth are checked by the use case. */
export const Metadata = z.record(z.string(), z.json());

/** The optional idempotency key of every write tool. */
export const IdempotencyKey = described(
  // No control characters: they have no place in a key, and one separates the caller's scope from the key where keys are stored.
  singleLine(z.string().min(1).max(128)).optional(),
  'A retry with the same key gets the first answer, writing nothing.',
  'agent-7f3c-remember-0042',
);
