import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryError, type IdempotencyClaim } from '../domain/errors.js';
import type { Caller, MemoryContext } from './context.js';

/** What a retried call gets back: the first call's output, or the first call's error. */
export type EarlierCall =
  | { kind: 'none' }
  | { kind: 'output'; output: unknown }
  | { kind: 'error'; error: MemoryError }
  /** The write committed but its answer was not kept (the database went away as it committed): what it made, to rebuild the answer from. */
  | { kind: 'made'; made: unknown };

/** A call's arguments as an idempotency record compares them (see audit/fingerprint.ts). */
export interface CallArguments {
  /** The keyed fingerprint, which every record made since fingerprints were keyed holds. */
  readonly sha256: string;
  /** The plain SHA-256, which a record made before then holds. */
  unkeyed(): string;
}

const WAIT_STEP_MS = 50;
const WAIT_MAX_MS = 5000;

/** Between a scope and a key in a stored key; never in a client's key (the schema refuses control characters). */
const SCOPE_SEPARATOR = '\u001f';

/**
 * The key as stored. A scope (the caller's principal) keeps one caller from
 * seeing, taking or replaying another's keys; the unscoped caller (the local
 * principal) stores its keys as they are, as every key was stored before
 * scoping, so its earlier records still answer its retries.
 */
export function storedKey(key: string, scope: string | null): string {
  return scope === null ? key : `${scope}${SCOPE_SEPARATOR}${key}`;
}

/** Whether a record's fingerprint is of these arguments: keyed, or plain for a record made before keying. */
const sameArguments = (stored: string, args: CallArguments): boolean => stored === args.sha256 || stored === args.unkeyed();

/**
 * Look up an idempotency key in the caller's scope. A key used for a different
 * tool or different arguments is an error; a key whose first call is still
 * running (here or in another process) is waited for briefly.
 */
export async function earlierCall(ctx: MemoryContext, key: string, scope: string | null, tool: string, args: CallArguments): Promise<EarlierCall> {
  for (let waited = 0; ; waited += WAIT_STEP_MS) {
    const record = await ctx.store.findIdempotent(storedKey(key, scope));
    if (!record) return { kind: 'none' };
    if (record.tool !== tool || !sameArguments(record.args_sha256, args)) {
      return { kind: 'error', error: new MemoryError('conflict', `idempotency_key "${key}" was already used for a different call; use a new key for a new write`) };
    }
    const result = record.result as { output?: unknown; made?: unknown; error?: { code: MemoryError['code']; message: string } } | null;
    if (result?.error) return { kind: 'error', error: new MemoryError(result.error.code, result.error.message) };
    if (result && 'made' in result) return { kind: 'made', made: result.made };
    if (result) return { kind: 'output', output: result.output };
    // A claim with nothing noted: a write from before writes noted what they made, whose first call is still running or stopped.
    if (waited >= WAIT_MAX_MS) {
      return {
        kind: 'error',
        error: new MemoryError('conflict', `a call with idempotency_key "${key}" was stored but its answer was not recorded (the server stopped); its records exist: find them with search_memory instead of retrying`),
      };
    }
    await sleep(WAIT_STEP_MS);
  }
}

/** The claim of a write that makes these records, so that a retry whose answer was lost can rebuild it (see IdempotencyClaim.made). */
export const claimMaking = (caller: Caller, made: unknown): IdempotencyClaim | undefined => caller.idempotency && { ...caller.idempotency, made };

/** Record how the first call with a key (in the caller's scope) ended, so retries get the same answer. */
export async function rememberOutcomeOfCall(ctx: MemoryContext, key: string, scope: string | null, outcome: { output: unknown } | { error: MemoryError }): Promise<void> {
  const value = 'output' in outcome ? { output: outcome.output } : { error: { code: outcome.error.code, message: outcome.error.message } };
  await ctx.store.recordIdempotentResult(storedKey(key, scope), value);
}
