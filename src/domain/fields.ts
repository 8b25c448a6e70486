import { z } from 'zod';

/**
 * Attach a description and one example to a schema. Every field of every tool
 * goes through this so the generated JSON Schema tells the model what to send.
 */
export function described<T extends z.ZodType>(schema: T, description: string, example?: unknown): T {
  return schema.meta(example === undefined ? { description } : { description, examples: [example] });
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** An ISO 8601 date or date-time; normalised to UTC ISO by `toIsoTimestamp`. */
export const Timestamp = z
  .string()
  .max(40)
  .refine((s) => ISO_DATE.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO 8601 date or date-time, e.g. 2025-05-08T13:56:00Z or 2025-05-08',
  });

/** Normalise an accepted timestamp to `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function toIsoTimestamp(value: string): string {
  return new Date(value).toISOString();
}

export const Id = z.string().min(1).max(64);

export const Namespace = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:\/-]*$/, {
    message: 'letters, digits and . _ : / - only, starting with a letter or digit',
  });

export const Tag = z.string().trim().min(1).max(64);
export const Tags = z.array(Tag).max(32);

/** A JSON object of arbitrary user data; its size and depth are checked by the use case. */
export const Metadata = z.record(z.string(), z.json());
