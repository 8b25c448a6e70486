/** Words too common to help ranking; dropped unless the query has nothing else. */
const STOPWORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both but
  by can could did do does doing down during each few for from further had has have having he her here hers herself him
  himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other
  our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
  these they this those through to too under until up very was we were what when where which while who whom why will
  with would you your yours yourself yourselves s t don didn doesn isn wasn`.split(/\s+/),
);

export const MAX_QUERY_TERMS = 32;
const MAX_TERM_CHARS = 64;

/** Letters, digits and marks: the characters FTS5's unicode61 tokenizer keeps in a token. */
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;
/** A run of marks alone (an emoji's variation selector) is not a word. */
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** Lower-case words of a text, in order, as the index tokenizer would split them. */
export function words(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).filter((w) => w.length <= MAX_TERM_CHARS && LETTER_OR_DIGIT.test(w));
}

/**
 * The distinct search terms of a query: its words minus stopwords (all its
 * words if it has only stopwords), first occurrence first, at most 32.
 */
export function queryTerms(query: string): string[] {
  const all = [...new Set(words(query))];
  const content = all.filter((w) => !STOPWORDS.has(w));
  return (content.length > 0 ? content : all).slice(0, MAX_QUERY_TERMS);
}
