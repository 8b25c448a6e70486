/**
 * Build an FTS5 MATCH expression from plain words. Each word becomes a quoted
 * string (FTS5's own escaping: double the quotes), joined by OR, so no caller
 * text is ever read as FTS5 syntax: not `AND`/`NEAR(`, `col:` prefixes, `*`,
 * `^`, `-` or parentheses.
 */
export function toFtsMatch(terms: readonly string[]): string {
  if (terms.length === 0) throw new Error('toFtsMatch needs at least one term');
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' OR ');
}
