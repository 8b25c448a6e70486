/**
 * When a request to an embedding service is tried again, and after how long:
 * network errors, timeouts, 408, 429 and 5xx (but 501 and 505, which say the
 * service will never do it) are retried with exponential backoff and jitter,
 * or after the service's Retry-After; any other answer is final.
 */

/** How one attempt ended. */
export type AttemptOutcome =
  | { kind: 'status'; status: number; retryAfter?: string | null }
  | { kind: 'network' }
  | { kind: 'timeout' }
  /** The service answered 2xx with something that is not embeddings of the texts sent: asking again would not help. */
  | { kind: 'bad-response' };

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  readonly attempts: number;
  /** The first backoff; each next one doubles, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** The longest Retry-After waited for within a call; a longer one ends the call (the service is then left alone that long). */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 4000, maxRetryAfterMs: 10_000 };

export type RetryDecision =
  | { retry: true; delayMs: number }
  /** Final. `waitMs`: how long the service asked to be left alone (Retry-After), when it did. */
  | { retry: false; transient: boolean; waitMs?: number };

/** Whether an outcome says the service is (for now) unavailable, rather than that this request is wrong. */
export function isTransient(outcome: AttemptOutcome): boolean {
  if (outcome.kind === 'network' || outcome.kind === 'timeout') return true;
  if (outcome.kind === 'bad-response') return false;
  const { status } = outcome;
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/**
 * Retry-After as milliseconds from `now`: delay-seconds or an HTTP date;
 * null when absent or unreadable (then the backoff applies).
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The backoff before attempt `attempt + 1` (attempt counts from 1): half of
 * base × 2^(attempt − 1), capped, plus up to as much again at random ("equal
 * jitter"), so clients failing together do not retry together.
 */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** What to do after attempt number `attempt` (from 1) ended with `outcome`. */
export function decideRetry(outcome: AttemptOutcome, attempt: number, policy: RetryPolicy = DEFAULT_RETRY, random: () => number = Math.random, now = Date.now()): RetryDecision {
  const transient = isTransient(outcome);
  if (!transient) return { retry: false, transient };
  const asked = outcome.kind === 'status' ? parseRetryAfter(outcome.retryAfter, now) : null;
  if (asked !== null && asked > policy.maxRetryAfterMs) return { retry: false, transient, waitMs: asked };
  if (attempt >= policy.attempts) return asked === null ? { retry: false, transient } : { retry: false, transient, waitMs: asked };
  return { retry: true, delayMs: asked ?? backoffMs(attempt, policy, random) };
}
