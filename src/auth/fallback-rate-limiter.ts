import type { Logger } from '../logging.js';
import type { KeyRateLimiter, Taken } from './rate-limiter.js';

/** How the shared store is named in the log lines ("Redis at redis://cache:6379", "PostgreSQL"). */
export interface FallbackSettings {
  /** The store, as a log line names it (any password hidden). */
  name: string;
  /** What the fallback is, for the same lines ("PostgreSQL", "each server's memory"). */
  fallbackName: string;
  /** Longest wait for the shared store's answer before the fallback answers instead. */
  timeoutMs: number;
  /** While the store is away, try it again at most this often (one request at a time); the others go straight to the fallback. */
  retryEveryMs: number;
}

/**
 * A shared bucket store (Redis, PostgreSQL) with a fallback for when it
 * cannot answer: every request is still answered, within the timeout at
 * worst, and still limited, by the fallback's buckets (those of the next
 * store, or of this process). One warning is logged when the store stops
 * answering and one line when it answers again, not a line per request;
 * while it is away, one request a second also tries it in the background
 * (no request waits on an absent store but those that found it gone), so
 * the limit goes back to it within about a second of its return. A demanding operator loses
 * neither service nor all limits to a cache going down; the price is that
 * meanwhile each server counts on its own (N servers allow up to N times
 * the rate), which the warning says.
 */
export class FallbackKeyLimiter implements KeyRateLimiter {
  /** Since when the store has not answered (null: it answers). */
  private downSince: number | null = null;
  private lastTry = 0;
  private probing = false;

  constructor(
    private readonly primary: KeyRateLimiter,
    private readonly fallback: KeyRateLimiter,
    private readonly logger: Logger,
    private readonly settings: FallbackSettings,
    private readonly now: () => number = Date.now,
  ) {}

  get perMinute(): number {
    return this.primary.perMinute;
  }

  get burst(): number {
    return this.primary.burst;
  }

  get where(): string {
    return `${this.primary.where}, then ${this.fallback.where}`;
  }

  /** Start as if the store had just failed (it could not be reached at start): requests go to the fallback until a background try succeeds. */
  markDown(reason: string): void {
    this.wentDown(reason);
  }

  async take(id: string, count = 1): Promise<Taken> {
    if (this.downSince !== null) {
      this.probeNowAndThen(id, count);
      return this.fallback.take(id, count);
    }
    try {
      return await withTimeout(this.primary.take(id, count), this.settings.timeoutMs);
    } catch (error) {
      this.wentDown((error as Error).message);
      return this.fallback.take(id, count);
    }
  }

  /**
   * While the store is away, at most once every retryEveryMs, run this
   * request's take on it too, in the background: the request itself is
   * answered by the fallback without waiting. Its success (the real
   * operation, not a mere ping: a store that answers PING but refuses
   * writes is still away) brings the store back. Such a request is counted
   * in both places, once a second at most.
   */
  private probeNowAndThen(id: string, count: number): void {
    if (this.probing || this.now() - this.lastTry < this.settings.retryEveryMs) return;
    this.probing = true;
    this.lastTry = this.now();
    withTimeout(this.primary.take(id, count), this.settings.timeoutMs)
      .then(() => {
        if (this.downSince === null) return;
        this.logger.info({ store: this.settings.name, awayMs: this.now() - this.downSince }, `rate limits: ${this.settings.name} answers again; each key's requests are counted there again`);
        this.downSince = null;
      })
      .catch(() => {
        this.lastTry = this.now();
      })
      .finally(() => {
        this.probing = false;
      });
  }

  private wentDown(reason: string): void {
    if (this.downSince !== null) return;
    this.downSince = this.now();
    this.lastTry = this.now();
    this.logger.warn(
      { store: this.settings.name, fallback: this.settings.fallbackName, reason: reason.split('\n')[0] },
      `rate limits: ${this.settings.name} cannot be reached (${reason.split('\n')[0]}); counting each key's requests in ${this.settings.fallbackName} until it answers`,
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback.close()]);
  }
}

/** The promise's outcome, or a rejection after `ms`; a late rejection of the promise is ignored. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
