/**
 * Expected failures. The message is written for the model that called the tool:
 * it says what went wrong and what to do next. Internal detail (SQL, stack,
 * paths) never goes into it; that belongs in the log.
 */
export type MemoryErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'too_large'
  | 'conflict'
  | 'forbidden'
  | 'cancelled'
  | 'unavailable'
  | 'internal';

export class MemoryError extends Error {
  readonly code: MemoryErrorCode;

  constructor(code: MemoryErrorCode, message: string) {
    super(message);
    this.name = 'MemoryError';
    this.code = code;
  }
}

/** Stop a read the client has cancelled (between steps: a step already running finishes). */
export function stopIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MemoryError('cancelled', 'the call was cancelled by the client before it finished');
}

export const notFound = (what: string, id: string, hint: string): MemoryError =>
  new MemoryError('not_found', `${what} ${id} not found; ${hint}`);

/** Why the server (or a command) cannot start, in one line for the operator: no stack trace. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** The database cannot be reached or went away mid-call (a network database restarting): retry once it is back. */
export class DatabaseUnavailable extends MemoryError {
  constructor() {
    super('unavailable', 'database unavailable, retry: the call was not completed (a write with an idempotency_key is safe to repeat)');
    this.name = 'DatabaseUnavailable';
  }
}

/** What a write records so that a retry with the same idempotency key stores nothing twice. */
export interface IdempotencyClaim {
  readonly key: string;
  readonly tool: string;
  readonly argsSha256: string;
  /**
   * What the write makes (its ids), as its caller describes it; without one,
   * the store's own answer (the ids a delete removed). Kept with the claim in
   * the write's transaction, so a retry whose first answer was lost (the
   * database went away as it committed) can rebuild that answer.
   */
  readonly made?: unknown;
}

/** What an idempotency record holds once its write committed and before its answer was kept; null when the write noted nothing. */
export function madeRecord(claim: IdempotencyClaim, returned: unknown): { made: unknown } | null {
  const made = claim.made === undefined ? returned : claim.made;
  return made === undefined ? null : { made };
}

/** A write whose idempotency key was already claimed: the first call's records stand, nothing new was written. */
export class DuplicateRequest extends MemoryError {
  constructor(readonly key: string) {
    super('conflict', `a call with idempotency_key "${key}" was already made`);
    this.name = 'DuplicateRequest';
  }
}
