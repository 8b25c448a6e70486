import { z } from 'zod';
import { bare, described, NO_CONTROL_CHARACTERS } from './fields.js';

/**
 * Where a record's text came from. `user`: a person's own words; `agent`: the
 * agent's (the default of a tool call); `tool`: a tool's output; `web`: a web
 * page; `import`: a backup or another memory server's file; `system`: written
 * by the server itself.
 */
export const ORIGINS = ['user', 'agent', 'tool', 'web', 'import', 'system'] as const;
export const Origin = z.enum(ORIGINS);
export type Origin = z.infer<typeof Origin>;

/**
 * The origins a caller may claim. `import` is what the import commands set
 * (a line of an import file naming it says no more than their default), and
 * `system` is for the server alone.
 */
export const CALLER_ORIGINS = ['user', 'agent', 'tool', 'web'] as const;
export const CallerOrigin = z.enum(CALLER_ORIGINS);

export const MAX_ORIGIN_REF = 512;
/** A URL: a scheme, then anything but spaces. */
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/;
/** A tool's name: letters, digits and . _ : / @ + -, starting with a letter or digit (`github.search_issues`, `mcp__fetch__get`). */
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;

/** What a reference may be: a URL (up to 512 characters) or a tool's name (up to 128). */
export function isOriginRef(text: string): boolean {
  if (text.length > MAX_ORIGIN_REF || !NO_CONTROL_CHARACTERS.test(text)) return false;
  if (URL_LIKE.test(text)) {
    try {
      new URL(text);
      return true;
    } catch {
      return false;
    }
  }
  // Something with "://" that is no URL is not a tool's name either.
  return TOOL_NAME.test(text) && !text.includes('://');
}

export const OriginRef = z.string().refine(isOriginRef, {
  message: `must be a URL (scheme://…, up to ${MAX_ORIGIN_REF} characters) or a tool name (letters, digits and . _ : / @ + -, up to 128)`,
});

/** The provenance fields a write takes: the same on remember, remember_goal and record_outcome. */
export const ProvenanceInput = {
  origin: described(CallerOrigin.optional(), 'Where the text came from.', 'web'),
  origin_ref: described(OriginRef.optional(), 'URL or tool name.', 'https://example.com/docs/setup'),
};

/**
 * The same fields, listed bare by tools/list (remember_goal, record_outcome:
 * see BARE in fields.ts); their descriptions stay in schemas/.
 */
export const BareProvenanceInput = {
  origin: bare(CallerOrigin.optional(), 'Where the text came from, as for remember.', 'user'),
  origin_ref: bare(OriginRef.optional(), 'Its URL or tool name, as for remember.', 'github.search_issues'),
};

/**
 * Who and what a stored record came from, immutable once stored: origin,
 * reference, and the principal that wrote it (its tenant is the store's).
 * Records stored before provenance existed hold null in all three ("not recorded").
 */
export interface Provenance {
  origin: Origin | null;
  origin_ref: string | null;
  written_by: string | null;
}

export const NOT_RECORDED: Provenance = { origin: null, origin_ref: null, written_by: null };

/** The injection detector's verdict on a stored goal or outcome (flagged only, never held): its signals, [] none, null not scanned. */
export const InjectionFields = {
  injection: described(z.array(z.string()).nullable(), 'Signals of instructions aimed at a model found in its text when stored ([]: none); null: not scanned.', []),
};

/** The output fields of a stored record's provenance. */
export const ProvenanceFields = {
  origin: described(Origin.nullable(), 'Where its text came from (user, agent, tool, web, import, system); null: not recorded (stored before provenance).', 'agent'),
  origin_ref: described(z.string().nullable(), 'The URL or tool name it came from, if given.', null),
  written_by: described(z.string().nullable(), 'The principal (API key id, "local", jwt:…) that stored it; null: not recorded.', 'local'),
};

/** An origin read from a store or a file: one we know, else not recorded. */
export const toOrigin = (value: unknown): Origin | null => (typeof value === 'string' && (ORIGINS as readonly string[]).includes(value) ? (value as Origin) : null);

/** Provenance as stored in three nullable columns (both backends, and old rows without them). */
export const provenanceOf = (row: { origin?: unknown; origin_ref?: unknown; written_by?: unknown }): Provenance => ({
  origin: toOrigin(row.origin),
  origin_ref: typeof row.origin_ref === 'string' ? row.origin_ref : null,
  written_by: typeof row.written_by === 'string' ? row.written_by : null,
});

/** Where a record came from and who wrote it, on one line: "from: web (https://…), written by key_1"; "from: not recorded" for records stored before provenance. */
export function provenanceLine(p: Provenance): string {
  if (p.origin === null) return 'from: not recorded';
  return `from: ${p.origin}${p.origin_ref === null ? '' : ` (${p.origin_ref})`}${p.written_by === null ? '' : `, written by ${p.written_by}`}`;
}
