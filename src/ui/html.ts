/**
 * HTML built by one tagged template: every interpolated value is escaped
 * unless it is itself Html (made by this template or `trusted`), so memory
 * text, tags, metadata, ids and error messages can only ever be text.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text made safe inside an element or a quoted attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part as string | number | boolean));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup written in this code base (never anything that came in a request or from the store). */
export const trusted = (markup: string): Html => new Html(markup);

/**
 * Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
 * U+061C) and other invisible format characters reorder or hide what is
 * around them: shown as visible code points instead, so a memory cannot
 * make its text (or the page around it) read differently than it is.
 */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** Stored text as inert, visible text: escaped, with invisible and direction-changing characters shown by code point. */
export function visible(text: string): Html {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(INVISIBLE)) {
    out += escapeHtml(text.slice(last, match.index));
    const code = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    out += `<span class="cp" title="an invisible character">U+${code}</span>`;
    last = match.index + match[0].length;
  }
  return new Html(`<bdi>${out + escapeHtml(text.slice(last))}</bdi>`);
}

/** A query string for a link to one of our pages: only these keys, each value encoded. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A link to a record's page (its id encoded: ids come from the store). */
export const memoryHref = (id: string): string => `/ui/memory/${encodeURIComponent(id)}`;
export const goalHref = (id: string): string => `/ui/goal/${encodeURIComponent(id)}`;
