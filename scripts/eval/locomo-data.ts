/**
 * Reading LoCoMo conversation files: the turns to store, the questions to ask,
 * and the normalisation the raw data needs (session dates, malformed evidence
 * ids). Pure functions only; the runner in locomo.ts does the I/O.
 */
import { z } from 'zod';

export const CATEGORY_NAMES: Readonly<Record<number, string>> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
  5: 'adversarial',
};

const RawTurn = z.object({
  speaker: z.string().min(1),
  dia_id: z.string().min(1),
  text: z.string(),
  blip_caption: z.string().optional(),
});
type RawTurn = z.infer<typeof RawTurn>;

const RawQa = z.object({
  question: z.string(),
  category: z.number().int(),
  evidence: z.array(z.string()).optional(),
});

export interface Turn {
  diaId: string;
  speaker: string;
  /** What is stored: `"<speaker>: <text>"`, plus the caption of a shared photo. */
  content: string;
}

export interface Session {
  n: number;
  /** The session's date-time as ISO 8601 UTC. */
  occurredAt: string;
  turns: Turn[];
}

export interface Question {
  question: string;
  category: number;
  /** Normalised evidence ids that name a turn of the conversation. */
  evidence: string[];
  /** Evidence ids (after normalisation) that name no turn. */
  dropped: string[];
}

export interface Conversation {
  name: string;
  sessions: Session[];
  questions: Question[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const SESSION_DATE = /^(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})$/i;

/**
 * Parse a LoCoMo session time such as "1:56 pm on 8 May, 2023" into ISO 8601
 * UTC ("2023-05-08T13:56:00.000Z"). The dataset gives no time zone; UTC keeps
 * the result the same on every machine. Throws on anything else.
 */
export function parseSessionDate(text: string): string {
  const match = SESSION_DATE.exec(text.trim());
  if (!match) throw new Error(`unrecognised session date ${JSON.stringify(text)}`);
  const [hourText = '', minuteText = '', meridiem = '', dayText = '', monthText = '', yearText = ''] = match.slice(1);
  const month = MONTHS.indexOf(monthText.slice(0, 3).toLowerCase());
  const hour12 = Number(hourText);
  const minute = Number(minuteText);
  const day = Number(dayText);
  const year = Number(yearText);
  if (month < 0 || hour12 < 1 || hour12 > 12 || minute > 59) throw new Error(`unrecognised session date ${JSON.stringify(text)}`);
  const hour = (hour12 % 12) + (meridiem.toLowerCase() === 'pm' ? 12 : 0);
  const date = new Date(Date.UTC(year, month, day, hour, minute));
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day) throw new Error(`no such day: ${JSON.stringify(text)}`);
  return date.toISOString();
}

const EVIDENCE_ID = /^D:?(\d+):(\d+)$/;

/**
 * Normalise one raw evidence entry into dialogue ids of the form "D<session>:<turn>".
 * An entry may hold several ids ("D8:6; D9:17"), a stray colon ("D:11:26") or
 * zero-padded numbers ("D30:05"). Anything else is returned trimmed, as is,
 * so that it matches no turn and is counted as dropped.
 */
export function normaliseEvidenceId(raw: string): string[] {
  return raw
    .split(/[;,]/)
    .map((part) => part.replace(/\s+/g, ''))
    .filter((part) => part !== '')
    .map((part) => {
      const match = EVIDENCE_ID.exec(part);
      return match ? `D${Number(match[1])}:${Number(match[2])}` : part;
    });
}

/** Normalise a question's evidence list against the conversation's turn ids: distinct known ids, and the rest. */
export function normaliseEvidence(raw: readonly string[], known: ReadonlySet<string>): { evidence: string[]; dropped: string[] } {
  const ids = [...new Set(raw.flatMap(normaliseEvidenceId))];
  return { evidence: ids.filter((id) => known.has(id)), dropped: ids.filter((id) => !known.has(id)) };
}

/** The text stored for a turn. */
export function turnContent(turn: { speaker: string; text: string; blip_caption?: string | undefined }): string {
  const caption = turn.blip_caption?.trim();
  return `${turn.speaker}: ${turn.text}${caption ? ` [shares a photo: ${caption}]` : ''}`;
}

/** The session numbers of a conversation object, ascending: keys `session_N` only (not the derived `session_N_*`). */
export function sessionNumbers(record: Readonly<Record<string, unknown>>): number[] {
  return Object.keys(record)
    .map((key) => /^session_(\d+)$/.exec(key)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function readSession(record: Readonly<Record<string, unknown>>, n: number): Session {
  const dateText = record[`session_${n}_date_time`];
  if (typeof dateText !== 'string') throw new Error(`session_${n} has no session_${n}_date_time`);
  const turns = z.array(RawTurn).safeParse(record[`session_${n}`]);
  if (!turns.success) throw new Error(`session_${n} is not a list of turns: ${turns.error.issues[0]?.message ?? 'invalid'}`);
  return {
    n,
    occurredAt: parseSessionDate(dateText),
    turns: turns.data.map((turn: RawTurn) => ({ diaId: turn.dia_id, speaker: turn.speaker, content: turnContent(turn) })),
  };
}

/**
 * Read one LoCoMo conversation from its parsed JSON. Sessions may sit at the
 * top level (as in the dev split) or under `conversation` (as in locomo10.json).
 * Throws with a short reason when the shape is wrong.
 */
export function readConversation(name: string, json: unknown): Conversation {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
  const top = json as Record<string, unknown>;
  const nested = top.conversation;
  const record = typeof nested === 'object' && nested !== null && !Array.isArray(nested) ? (nested as Record<string, unknown>) : top;
  const numbers = sessionNumbers(record);
  if (numbers.length === 0) throw new Error('no session_N lists');
  const sessions = numbers.map((n) => readSession(record, n));

  const known = new Set<string>();
  for (const turn of sessions.flatMap((s) => s.turns)) {
    if (known.has(turn.diaId)) throw new Error(`dialogue id ${turn.diaId} appears twice`);
    known.add(turn.diaId);
  }
  const qa = z.array(RawQa).safeParse(top.qa);
  if (!qa.success) throw new Error(`qa is not a list of questions: ${qa.error.issues[0]?.message ?? 'invalid'}`);
  const questions = qa.data.map((item) => ({ question: item.question, category: item.category, ...normaliseEvidence(item.evidence ?? [], known) }));
  return { name, sessions, questions };
}

/** Split a list into consecutive chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
