/** How often buckets that have refilled are forgotten, so the map holds only recent callers. */
const PRUNE_EVERY_MS = 60_000;

/**
 * A token bucket per key: `burst` requests at once, refilled at `perMinute`
 * per minute. In memory, per process: several processes on one data
 * directory each allow the full rate. A bucket that has refilled is
 * forgotten (it would start full anyway), so callers that come once, such
 * as the addresses of refused requests, do not accumulate.
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
  take(id: string, count = 1): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (this.perMinute <= 0) return { ok: true };
    const now = this.now();
    this.prune(now);
    const bucket = this.refilled(id, now);
    this.buckets.set(id, bucket);
    if (bucket.tokens >= count) {
      bucket.tokens -= count;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: this.secondsUntil(bucket, Math.min(count, this.burst)) };
  }

  /** Keys with a bucket in memory (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(id: string, now: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(id) ?? { tokens: this.burst, at: now };
    return { tokens: Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs), at: now };
  }

  private secondsUntil(bucket: { tokens: number }, needed: number): number {
    return Math.max(1, Math.ceil((needed - bucket.tokens) / this.perMs / 1000));
  }

  private prune(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    for (const [id, bucket] of this.buckets) if (bucket.tokens + (now - bucket.at) * this.perMs >= this.burst) this.buckets.delete(id);
  }
}
