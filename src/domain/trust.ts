import { z } from 'zod';
import type { Origin } from './provenance.js';

/**
 * How far a reader may rely on a record's text, from where it came from and
 * what the write firewall found in it. Lowest first, so that a level's index
 * orders them.
 *
 * - `high`: a person's own words (`user`) or the server's (`system`).
 * - `medium`: the agent's words, an import, or a record stored before
 *   provenance (nothing says it came from outside).
 * - `low`: a tool's output or a web page (text nobody at the keyboard wrote,
 *   where injected instructions come from), or any text the injection
 *   detector flagged.
 */
export const TRUST_LEVELS = ['low', 'medium', 'high'] as const;
export const TrustLevel = z.enum(TRUST_LEVELS);
export type TrustLevel = z.infer<typeof TrustLevel>;

/** What trust is judged from: the record's origin, and whether the detector's flag still stands. */
export interface TrustInputs {
  origin: Origin | null;
  /** Flagged by the injection detector as addressing a model (an admin's approval makes a held text searchable, not trusted). */
  flagged: boolean;
}

export interface Trust {
  level: TrustLevel;
  /** Why, in a few words a model can act on. */
  reason: string;
}

const BY_ORIGIN: Record<Origin | 'none', Trust> = {
  user: { level: 'high', reason: "a user's words" },
  system: { level: 'high', reason: "the server's words" },
  agent: { level: 'medium', reason: "the agent's words" },
  import: { level: 'medium', reason: 'imported' },
  none: { level: 'medium', reason: 'origin not recorded' },
  tool: { level: 'low', reason: "a tool's output" },
  web: { level: 'low', reason: 'a web page' },
};

/** Text the injection detector flagged: signals found (null: not scanned; []: nothing found). */
export const isFlagged = (injection: readonly string[] | null | undefined): boolean => (injection?.length ?? 0) > 0;

/** A record's trust: low once flagged, whatever its origin; else its origin's. */
export function trustOf({ origin, flagged }: TrustInputs): Trust {
  if (flagged) return { level: 'low', reason: 'reads as instructions to a model' };
  return BY_ORIGIN[origin ?? 'none'];
}

/** Whether `level` is at least `min`. */
export const trustAtLeast = (level: TrustLevel, min: TrustLevel): boolean => TRUST_LEVELS.indexOf(level) >= TRUST_LEVELS.indexOf(min);

/** The origins whose records reach `min` when not flagged: what a min_trust filter admits (null: records without provenance). */
export function originsAtLeast(min: TrustLevel): { origins: Origin[]; unrecorded: boolean } {
  const origins = (Object.keys(BY_ORIGIN) as (Origin | 'none')[]).filter((o) => trustAtLeast(BY_ORIGIN[o].level, min));
  return { origins: origins.filter((o): o is Origin => o !== 'none'), unrecorded: origins.includes('none') };
}
