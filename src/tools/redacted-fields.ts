import { z } from 'zod';
import { described } from '../domain/fields.js';
import type { RedactedField } from '../firewall/secret-guard.js';

/** The output field every write tool has: where secrets were replaced by marks, and their kinds. */
export const Redacted = described(
  z.array(z.object({ field: z.string(), kinds: z.array(z.string()) })).optional(),
  'Fields whose secrets (keys, tokens, passwords, card numbers) were stored as [redacted: kind] marks instead; absent when none.',
  [{ field: 'content', kinds: ['github-token'] }],
);

/** Only when something was redacted: an answer without secrets is what it always was. */
export const redactedField = (redacted: readonly RedactedField[]): { redacted?: RedactedField[] } => (redacted.length > 0 ? { redacted: [...redacted] } : {});

/** A sentence for the text answer, or nothing. */
export function redactionNote(redacted: readonly RedactedField[] | undefined): string {
  if (!redacted?.length) return '';
  const kinds = [...new Set(redacted.flatMap((r) => r.kinds))];
  return `\nsecrets stored as [redacted: …] marks (${kinds.join(', ')}) in ${redacted.map((r) => r.field).join(', ')}`;
}
