import type Database from 'better-sqlite3';
import { secondsUntil, type KeyRateLimiter, type Taken } from './rate-limiter.js';

/** How often (at most) a process deletes the rows of buckets that have refilled: they would start full anyway. */
const PRUNE_EVERY_MS = 60_000;

/**
 * The buckets of every process serving HTTP on one data directory (the
 * workers of `--workers N`), in the table `rate_buckets` of its shared
 * SQLite file: N workers allow a key its rate once, not N times. One take is
 * one short write transaction (read the key's bucket, refill it by the time
 * since its last take, spend, write), by the machine's clock, which every
 * process on it shares.
 */
export class SqliteKeyLimiter implements KeyRateLimiter {
  readonly where = 'sqlite';
  private prunedAt = 0;
  private readonly takeTx: (id: string, count: number, now: number) => { granted: boolean; tokens: number };
  private readonly prune: Database.Statement<[number]>;

  constructor(
    db: Database.Database,
    readonly perMinute: number,
    readonly burst: number,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    const read = db.prepare<[string], { tokens: number; at: number }>('SELECT tokens, at FROM rate_buckets WHERE id = ?');
    const write = db.prepare<[string, number, number]>('INSERT INTO rate_buckets (id, tokens, at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET tokens = excluded.tokens, at = excluded.at');
    const perSecond = perMinute / 60;
    const take = db.transaction((id: string, count: number, now: number) => {
      const row = read.get(id);
      // Time never runs backwards for a bucket, whatever the processes' reads of the clock.
      const at = row ? Math.max(row.at, now) : now;
      const tokens = row ? Math.min(this.burst, row.tokens + (at - row.at) * perSecond) : this.burst;
      const granted = tokens >= count;
      const left = granted ? tokens - count : tokens;
      write.run(id, left, at);
      return { granted, tokens: left };
    });
    this.takeTx = (id, count, now) => take.immediate(id, count, now);
    this.prune = db.prepare('DELETE FROM rate_buckets WHERE at < ?');
  }

  async take(id: string, count = 1): Promise<Taken> {
    if (this.perMinute <= 0) return { ok: true };
    const now = this.now();
    this.pruneNowAndThen(now);
    const { granted, tokens } = this.takeTx(id, count, now);
    if (granted) return { ok: true };
    return { ok: false, retryAfterSeconds: secondsUntil(tokens, Math.min(count, this.burst), this.perMinute) };
  }

  /** Delete buckets idle long enough to be full again, at most once a minute per process. */
  private pruneNowAndThen(now: number): void {
    if (now * 1000 - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now * 1000;
    this.prune.run(now - (this.burst * 60) / this.perMinute);
  }

  /** The shared file belongs to the HTTP server, which closes it. */
  async close(): Promise<void> {}
}
