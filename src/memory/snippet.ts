import { words } from './query-terms.js';

/**
 * A loose match between a query term and a word of the text: equal, or sharing
 * a stem-like prefix (so "deploying" matches "deploy"), close to what the
 * index's porter stemmer does, which is all "why" and snippets need.
 */
export function termMatches(term: string, word: string): boolean {
  if (term === word) return true;
  const shorter = Math.min(term.length, word.length);
  const prefix = Math.max(4, shorter - 2);
  return shorter >= 4 && term.slice(0, prefix) === word.slice(0, prefix);
}

/** The query terms that occur in a text. */
export function matchedTerms(terms: readonly string[], text: string): string[] {
  const textWords = new Set(words(text));
  return terms.filter((term) => [...textWords].some((word) => termMatches(term, word)));
}

/**
 * A window of at most `maxChars` around the first matching term, cut at word
 * boundaries, with an ellipsis where text was left out.
 */
export function makeSnippet(text: string, terms: readonly string[], maxChars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= maxChars) return flat;
  const lower = flat.toLowerCase();
  let at = -1;
  for (const term of terms) {
    const i = lower.indexOf(term.slice(0, Math.max(4, term.length - 2)));
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  let start = at < 0 ? 0 : Math.max(0, at - Math.floor(maxChars / 3));
  let end = Math.min(flat.length, start + maxChars - 2);
  start = Math.max(0, end - (maxChars - 2));
  if (start > 0) {
    const space = flat.indexOf(' ', start);
    if (space > 0 && space < start + 20) start = space + 1;
  }
  if (end < flat.length) {
    const space = flat.lastIndexOf(' ', end);
    if (space > start + maxChars / 2) end = space;
  }
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}
