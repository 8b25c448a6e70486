import type pg from 'pg';
import { SHARED_SCHEMA } from './postgres-key-store.js';
import { secondsUntil, type KeyRateLimiter, type Taken } from './rate-limiter.js';

/** The table of the buckets (created with the shared schema's other tables: see postgres-key-store.ts). */
export const RATE_BUCKETS = `${SHARED_SCHEMA}.rate_buckets`;

/** How often (at most) a server deletes the rows of buckets that have refilled: they would start full anyway. */
const PRUNE_EVERY_MS = 60_000;

/**
 * One take, in one statement: the key's row is created full (less this
 * take) or refilled by the time elapsed since its last take, by the
 * database's clock (read after the row is locked, so takes queued on one key
 * never see time run backwards), and spent when it holds enough. The row
 * says whether this take was granted (RETURNING sees only the new row).
 * $1 key id, $2 burst, $3 count, $4 tokens per second.
 */
const TAKE_SQL = `
  WITH arg AS (SELECT $1::text AS id, $2::float8 AS burst, $3::float8 AS count, $4::float8 AS per_second)
  INSERT INTO ${RATE_BUCKETS} AS b (id, tokens, at, granted)
  SELECT arg.id, CASE WHEN arg.count <= arg.burst THEN arg.burst - arg.count ELSE arg.burst END, extract(epoch FROM clock_timestamp())::float8, arg.count <= arg.burst
  FROM arg
  ON CONFLICT (id) DO UPDATE SET (tokens, at, granted) = (
    SELECT CASE WHEN r.t >= $3::float8 THEN r.t - $3::float8 ELSE r.t END, r.now, r.t >= $3::float8
    FROM (
      SELECT LEAST($2::float8, b.tokens + GREATEST(0, c.now - b.at) * $4::float8) AS t, c.now
      FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) c
    ) r
  )
  RETURNING tokens, granted`;

/** Buckets that have been idle long enough to be full again: $1 seconds to refill a bucket from empty. */
const PRUNE_SQL = `DELETE FROM ${RATE_BUCKETS} WHERE at < extract(epoch FROM clock_timestamp())::float8 - $1::float8`;

/**
 * The buckets of every server on one PostgreSQL database, in the shared
 * schema's `rate_buckets` table: N replicas behind a load balancer allow a
 * key its rate once, not N times. The table is UNLOGGED (no WAL, no fsync
 * per request): after a crash of the database server it comes back empty,
 * which only means every bucket starts full. Runs on the key store's pool.
 */
export class PostgresKeyLimiter implements KeyRateLimiter {
  readonly where = 'postgres';
  private prunedAt = 0;

  constructor(
    private readonly pool: pg.Pool,
    readonly perMinute: number,
    readonly burst: number,
  ) {}

  async take(id: string, count = 1): Promise<Taken> {
    if (this.perMinute <= 0) return { ok: true };
    this.pruneNowAndThen();
    const { rows } = await this.pool.query<{ tokens: number; granted: boolean }>(TAKE_SQL, [id, this.burst, count, this.perMinute / 60]);
    const row = rows[0]!;
    if (row.granted) return { ok: true };
    return { ok: false, retryAfterSeconds: secondsUntil(row.tokens, Math.min(count, this.burst), this.perMinute) };
  }

  /** Delete idle buckets, in the background, at most once a minute per server; a failure waits for the next time. */
  private pruneNowAndThen(): void {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    this.pool.query(PRUNE_SQL, [(this.burst * 60) / this.perMinute]).catch(() => {});
  }

  async close(): Promise<void> {}
}
