/** How often buckets that have refilled are forgotten, so the map holds only recent callers. */
const PRUNE_EVERY_MS = 60_000;

/** What taking from a bucket answers: allowed, or how many whole seconds until enough tokens are back. */
export type Taken = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Seconds until a bucket holding `tokens` has `needed` again, at `perMinute`:
 * at least 1, rounded up (what a Retry-After header says).
 */
export function secondsUntil(tokens: number, needed: number, perMinute: number): number {
  return Math.max(1, Math.ceil(((needed - tokens) * 60) / perMinute));
}

/**
 * A token bucket per key: `burst` requests at once, refilled at `perMinute`
 * per minute. In memory, per process: several processes each allow the full
 * rate. A bucket that has refilled is forgotten (it would start full anyway),
 * so callers that come once, such as the addresses of refused requests, do
 * not accumulate.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  private prunedAt: number;

  constructor(
    readonly perMinute: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = perMinute / 60_000;
    this.prunedAt = now();
  }

  /** Spend `count` tokens of this key (one by default); when too few are left, how many seconds until they are. */
  take(id: string, count = 1): Taken {
    if (this.perMinute <= 0) return { ok: true };
    const now = this.now();
    this.prune(now);
    const bucket = this.refilled(id, now);
    this.buckets.set(id, bucket);
    if (bucket.tokens >= count) {
      bucket.tokens -= count;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: secondsUntil(bucket.tokens, Math.min(count, this.burst), this.perMinute) };
  }

  /** Keys with a bucket in memory (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(id: string, now: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(id) ?? { tokens: this.burst, at: now };
    return { tokens: Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs), at: now };
  }

  private prune(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    for (const [id, bucket] of this.buckets) if (bucket.tokens + (now - bucket.at) * this.perMs >= this.burst) this.buckets.delete(id);
  }
}

/**
 * The per-key request limit of the HTTP transport: a token bucket per API
 * key or token subject, `burst` requests at once, refilled at `perMinute` a
 * minute (0: no limit). Where the buckets are depends on the deployment: in
 * this process, in the shared PostgreSQL database, or in Redis, so that
 * several servers behind one load balancer share each key's budget instead
 * of each allowing all of it.
 */
export interface KeyRateLimiter {
  readonly perMinute: number;
  readonly burst: number;
  /** Where the buckets are kept, for logs: "memory", "postgres", "redis", or a fallback chain ("redis, then postgres"). */
  readonly where: string;
  /** Spend `count` tokens of this key (one by default); when too few are left, how many seconds until they are. Never rejects. */
  take(id: string, count?: number): Promise<Taken>;
  /** Release what it holds (a Redis connection); the PostgreSQL pool belongs to the key store. */
  close(): Promise<void>;
}

/** The buckets of this process alone (no database URL and no Redis, or while the shared store cannot be reached). */
export class MemoryKeyLimiter implements KeyRateLimiter {
  readonly where = 'memory';
  private readonly buckets: RateLimiter;

  constructor(
    readonly perMinute: number,
    readonly burst: number,
    now?: () => number,
  ) {
    this.buckets = new RateLimiter(perMinute, burst, now);
  }

  async take(id: string, count = 1): Promise<Taken> {
    return this.buckets.take(id, count);
  }

  async close(): Promise<void> {}
}
