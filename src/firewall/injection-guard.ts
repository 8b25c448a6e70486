import { MemoryError } from '../domain/errors.js';
import type { Origin } from '../domain/provenance.js';
import { scanInjection } from './injection-scan.js';

/**
 * What a write does with text the injection detector flags: hold it for
 * review (stored and audited, invisible to search until an admin approves
 * it), store it with a flag, refuse the write, or store it unscanned.
 */
export const INJECTION_ACTIONS = ['hold', 'flag', 'refuse', 'allow'] as const;
export type InjectionAction = (typeof INJECTION_ACTIONS)[number];

/** Origins whose text is someone else's words: a web page, a tool's output, an imported file. */
export const UNTRUSTED_ORIGINS: readonly Origin[] = ['web', 'tool', 'import'];

/** The actions of one namespace: for text from web, tool and import (`untrusted`), and for the rest (`own`: user, agent, system). */
export interface InjectionActions {
  readonly untrusted: InjectionAction;
  readonly own: InjectionAction;
}

/**
 * The actions for every namespace, and those of namespaces that chose
 * others, keyed by namespace (every tenant) or `tenant/namespace` (one
 * tenant's, which wins); `tenant` is the tenant this runtime serves.
 */
export interface InjectionPolicy extends InjectionActions {
  /** A namespace's own action for the user's and agent's text, when it names one; else the policy's. */
  readonly byNamespace: ReadonlyMap<string, Pick<InjectionActions, 'untrusted'> & Partial<Pick<InjectionActions, 'own'>>>;
  readonly tenant?: string | null;
}

export const DEFAULT_INJECTION_POLICY: InjectionPolicy = { untrusted: 'hold', own: 'flag', byNamespace: new Map() };

/** The action for text of this origin written to this namespace. */
export function injectionAction(policy: InjectionPolicy, namespace: string, origin: Origin | null): InjectionAction {
  const chosen = (policy.tenant ? policy.byNamespace.get(`${policy.tenant}/${namespace}`) : undefined) ?? policy.byNamespace.get(namespace) ?? policy;
  return origin !== null && UNTRUSTED_ORIGINS.includes(origin) ? chosen.untrusted : (chosen.own ?? policy.own);
}

/** The verdict a record is stored with: the signals that flagged it ([]: none; null: not scanned), and whether it is held for review. */
export interface InjectionVerdict {
  readonly injection: string[] | null;
  readonly held: boolean;
}

export const NOT_SCANNED: InjectionVerdict = { injection: null, held: false };

/** Every string of a JSON value, keys included, in order (what the secret check reads of metadata). */
export function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      stringsOf(item, out);
    }
  }
  return out;
}

/**
 * Judge the texts of one record (after secret redaction) by the policy:
 * `allow` does not scan; otherwise the texts are scanned together, and a
 * flagged record is refused (`refuse`: a tool error naming the signals,
 * never the text), held (`hold`, unless `neverHold`: goals and outcomes are
 * the agent's working records, only ever flagged) or flagged.
 */
export function judgeInjection(action: InjectionAction, field: string, namespace: string, texts: readonly string[], neverHold = false): InjectionVerdict {
  if (action === 'allow') return NOT_SCANNED;
  const verdict = scanInjection(texts.filter((text) => text.length > 0).join('\n'));
  if (!verdict.flagged) return { injection: [], held: false };
  const signals = [...new Set(verdict.signals)];
  if (action === 'refuse' && !neverHold) {
    throw new MemoryError(
      'invalid_input',
      `${field} reads as instructions aimed at a model (${signals.join(', ')}); namespace "${namespace}" refuses them from this origin: leave them out, or store a summary in your own words`,
    );
  }
  return { injection: signals, held: action === 'hold' && !neverHold };
}
