import type { AnswerBudget, LinkedGoal, RatedHit, SearchHit } from '../domain/search.js';
import { hitsToShow } from '../memory/relevance.js';

/** A search result as the text answer is written from. */
export interface SearchAnswer {
  readonly hits: readonly RatedHit[];
  readonly mode: string;
  readonly terms: readonly string[];
  readonly note?: string | undefined;
  readonly goals?: readonly LinkedGoal[] | undefined;
}

/**
 * The size of a text in tokens, estimated without a tokenizer: an ASCII
 * character counts a quarter of a token (the usual ~4 characters a token of
 * English text and code in the BPE vocabularies models use), any other
 * character a whole one (CJK ideographs are about one token each; accented
 * and Cyrillic letters are fewer, so such text is over- rather than
 * under-counted). Additive over pieces of text, so an answer's size is the
 * sum of its lines' (`textCost`), rounded up once.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(textCost(text));
}

function textCost(text: string): number {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    // A surrogate pair is one character: count its high half only.
    else if (code < 0xdc00 || code > 0xdfff) other++;
  }
  return ascii / 4 + other;
}

/** Cut a text to at most `maxChars` characters at a word boundary, with an ellipsis where it was cut. */
export function trimText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let cut = text.slice(0, Math.max(0, maxChars - 1));
  const space = cut.lastIndexOf(' ');
  if (space > maxChars / 2) cut = cut.slice(0, space);
  return `${cut.replace(/[\s,;:.…-]+$/u, '')}…`;
}

const relevanceLabel = (hit: RatedHit): string =>
  hit.relevance === null ? '' : `${hit.relevance}${hit.relevance === 'weak' ? ` (${hit.why.matched_terms.join(', ')})` : ''} `;

/** A hit's line up to its snippet: number, relevance (with the query words a weak hit holds), what it is, its id and date, a lesson's track record, and low trust with its reason (the text a model reads must say it, not only the structured hit). */
const hitHead = (hit: RatedHit, i: number): string =>
  `${i + 1}. ${relevanceLabel(hit)}[${hit.type}${hit.layer ? `/${hit.layer}` : ''}/${hit.kind}] ${hit.id} (${hit.occurred_at.slice(0, 10)}${hit.why.track_record ? `; track record ${hit.why.track_record}` : ''}${hit.trust === 'low' ? `; low trust: ${hit.why.trust}` : ''}): `;

type Neighbour = SearchHit['context'][number];
const contextHead = (c: Neighbour): string => `   ${c.offset > 0 ? '+' : ''}${c.offset} ${c.id}: `;

/** One hit as lines of text: the hit, then its thread neighbours. */
export function hitLine(hit: RatedHit, i: number): string {
  return `${hitHead(hit, i)}${hit.snippet}` + hit.context.map((c) => `\n${contextHead(c)}${c.snippet}`).join('');
}

/** The lines before the hits: the search's note, and whether anything matched strongly. */
function headerLines(r: SearchAnswer): string[] {
  const lines: string[] = [];
  if (r.note) lines.push(r.note);
  if (r.mode !== 'recent' && !r.hits.some((hit) => hit.relevance === 'strong')) lines.push(`no strong match (no hit holds most of: ${r.terms.join(', ')})`);
  return lines;
}

const vectorOnlyLine = (leftOut: number): string => `(${leftOut} more vector-only hit${leftOut === 1 ? '' : 's'}, far less similar than the best, left out)`;

/** The text answer without a budget. */
export function searchText(r: SearchAnswer): string {
  if (r.hits.length === 0) return r.note ?? 'no matches';
  const { shown, leftOut } = hitsToShow(r.hits);
  const lines = [...headerLines(r), ...shown.map(hitLine)];
  if (leftOut > 0) lines.push(vectorOnlyLine(leftOut));
  return lines.join('\n');
}

/** A snippet is never trimmed below this many characters while a hit can be left out instead (the top hit's may be, to fit at all). */
const SNIPPET_FLOOR = 100;

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The last line of a packed answer: what it left out and trimmed, and how to get the rest. */
function budgetLine(omitted: AnswerBudget['omitted'], trimmed: number, maxTokens: number): string | null {
  const parts = [
    omitted.hits > 0 ? plural(omitted.hits, 'more hit') : '',
    omitted.context > 0 ? plural(omitted.context, 'context turn') : '',
    omitted.goals > 0 ? plural(omitted.goals, 'linked goal') : '',
    omitted.lessons > 0 ? plural(omitted.lessons, 'lesson') : '',
  ].filter(Boolean);
  if (parts.length === 0 && trimmed === 0) return null;
  const left = parts.length === 0 ? '' : `${parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`} left out`;
  const cut = trimmed > 0 ? `${plural(trimmed, 'snippet')} trimmed` : '';
  return `(${[left, cut].filter(Boolean).join(', ')} to stay within ${maxTokens} tokens; ask with a larger max_tokens, or fetch by id with get_memory or get_goal)`;
}

/** A line whose text part may be trimmed, as packed. */
interface Packed {
  readonly head: string;
  readonly text: string;
  readonly trimmed: boolean;
}

/**
 * The text answer fitted to about `maxTokens` (estimateTokens): the hits best
 * first, each snippet trimmed to a common length (never below 100 characters)
 * before any hit is left out, the top hit always; with the room left, thread
 * neighbours in the order of their hits, then the linked goals (title and
 * status) with their lessons; a last line says what was left out. The
 * structured result keeps everything: only the text is packed.
 */
export function packSearchAnswer(r: SearchAnswer, maxTokens: number): { text: string; budget: AnswerBudget } {
  const goals = r.goals ?? [];
  const noHits = { hits: 0, context: 0, goals: goals.length, lessons: goals.reduce((n, g) => n + g.lessons.length, 0) };
  if (r.hits.length === 0) {
    const text = r.note ?? 'no matches';
    return { text, budget: { max_tokens: maxTokens, used_tokens: estimateTokens(text), trimmed: 0, omitted: noHits } };
  }
  const { shown, leftOut } = hitsToShow(r.hits);
  // The search's own notes, each cut to a quarter of the budget at most (an error's message can be long).
  const header = headerLines(r).map((line) => trimText(line, maxTokens));
  const fixed = [...header, ...(leftOut > 0 ? [vectorOnlyLine(leftOut)] : [])];
  const contexts = shown.reduce((n, hit) => n + hit.context.length, 0);
  const lessons = goals.reduce((n, g) => n + g.lessons.length, 0);
  // Room for the last line at its longest (every count at its largest).
  const reserve = textCost(budgetLine({ hits: shown.length, context: contexts, goals: goals.length, lessons }, shown.length + contexts + lessons, maxTokens)!) + 0.25;
  let room = maxTokens - reserve - fixed.reduce((sum, line) => sum + textCost(line) + 0.25, 0);
  const lineCost = (head: string, text: string): number => textCost(head) + textCost(text) + 0.25;

  // The hits: as many as fit with snippets at the floor, then all widened to the longest common length that fits.
  const heads = shown.map(hitHead);
  let count = 0;
  let atFloor = 0;
  for (const [i, hit] of shown.entries()) {
    const cost = lineCost(heads[i]!, trimText(hit.snippet, SNIPPET_FLOOR));
    if (i > 0 && atFloor + cost > room) break;
    atFloor += cost;
    count = i + 1;
  }
  const hits = shown.slice(0, count);
  const longest = Math.max(...hits.map((hit) => hit.snippet.length));
  const costAt = (cap: number): number => hits.reduce((sum, hit, i) => sum + lineCost(heads[i]!, trimText(hit.snippet, cap)), 0);
  let cap = longest;
  if (costAt(cap) > room) {
    // The largest cap that fits, by bisection; below the floor only when the top hit alone does not fit at it.
    let low = 0;
    let high = longest;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (costAt(mid) <= room) low = mid;
      else high = mid - 1;
    }
    cap = low;
  }
  const packedHits: Packed[] = hits.map((hit, i) => {
    const text = trimText(hit.snippet, cap);
    return { head: heads[i]!, text, trimmed: text !== hit.snippet };
  });
  room -= costAt(cap);

  /** The line, trimmed to the room left if it must be (not below the floor), or null when it does not fit. */
  const fit = (head: string, text: string): Packed | null => {
    const whole = trimText(text, Math.max(cap, SNIPPET_FLOOR));
    if (lineCost(head, whole) <= room) return { head, text: whole, trimmed: whole !== text };
    for (let chars = whole.length - 1; chars >= SNIPPET_FLOOR; chars -= Math.max(1, Math.floor(chars / 10))) {
      const trimmed = trimText(text, chars);
      if (lineCost(head, trimmed) <= room) return { head, text: trimmed, trimmed: true };
    }
    return null;
  };

  // Thread neighbours, in the order of their hits, until one does not fit.
  const packedContext = hits.map((): Packed[] => []);
  let contextShown = 0;
  let full = false;
  for (const [i, hit] of hits.entries()) {
    for (const c of hit.context) {
      const line = full ? null : fit(contextHead(c), c.snippet);
      if (line === null) {
        full = true;
        break;
      }
      room -= lineCost(line.head, line.text);
      packedContext[i]!.push(line);
      contextShown++;
    }
    if (full) break;
  }

  // Linked goals with their lessons, until one line does not fit.
  const goalLines: Packed[] = [];
  let goalsShown = 0;
  let lessonsShown = 0;
  const title = 'linked goals:';
  if (!full && goals.length > 0 && lineCost('', title) <= room) {
    room -= lineCost('', title);
    for (const goal of goals) {
      const numbers = hits.flatMap((hit, i) => ((hit.type === 'goal' ? hit.id : hit.goal_id) === goal.id ? [i + 1] : []));
      const line = fit(`- goal ${goal.id} [${goal.status}]${numbers.length > 0 ? ` (hit${numbers.length === 1 ? '' : 's'} ${numbers.join(', ')})` : ''}: `, goal.title);
      if (line === null) break;
      room -= lineCost(line.head, line.text);
      goalLines.push(line);
      goalsShown++;
      let stopped = false;
      for (const lesson of goal.lessons) {
        const lessonLine = fit('  lesson: ', lesson.replace(/\s+/g, ' ').trim());
        if (lessonLine === null) {
          stopped = true;
          break;
        }
        room -= lineCost(lessonLine.head, lessonLine.text);
        goalLines.push(lessonLine);
        lessonsShown++;
      }
      if (stopped) break;
    }
  }

  const lines = [...header];
  for (const [i, hit] of packedHits.entries()) lines.push(hit.head + hit.text, ...packedContext[i]!.map((c) => c.head + c.text));
  if (leftOut > 0) lines.push(vectorOnlyLine(leftOut));
  if (goalLines.length > 0) lines.push(title, ...goalLines.map((g) => g.head + g.text));
  const omitted = { hits: shown.length - count, context: contexts - contextShown, goals: goals.length - goalsShown, lessons: lessons - lessonsShown };
  const trimmed = [...packedHits, ...packedContext.flat(), ...goalLines].filter((line) => line.trimmed).length;
  const last = budgetLine(omitted, trimmed, maxTokens);
  if (last !== null) lines.push(last);
  const text = lines.join('\n');
  return { text, budget: { max_tokens: maxTokens, used_tokens: estimateTokens(text), trimmed, omitted } };
}
