import { CONTROL_CHARACTERS } from './fields.js';

/** The most characters of a client's self-description (its name or version) that are kept. */
export const MAX_CLIENT_LABEL_CHARS = 128;


/** Half of a surrogate pair without its other half: not text, and not storable as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A string a client chose to describe itself (MCP `clientInfo.name` or
 * `version`), made safe to store and print: at most 128 characters (never
 * half a surrogate pair), control characters and lone surrogates replaced
 * by U+FFFD. Null for anything that is not a non-empty string. A client's
 * name becomes the default `source` of what it stores and the session's
 * entry in the audit trail, so it must not be able to carry a megabyte.
 */
export function clientLabel(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  let kept = '';
  let count = 0;
  for (const char of value) {
    if (count === MAX_CLIENT_LABEL_CHARS) break;
    kept += char;
    count += 1;
  }
  // Control characters would be printed as they are in logs, text blocks and UIs.
  return kept.replace(LONE_SURROGATE, '\uFFFD').replace(CONTROL_CHARACTERS, '\uFFFD');
}
