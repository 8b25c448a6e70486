import type Database from 'better-sqlite3';
import type pg from 'pg';
import { redactDatabaseUrl } from '../domain/database-url.js';
import type { Logger } from '../logging.js';
import { FallbackKeyLimiter } from './fallback-rate-limiter.js';
import { MemoryKeyLimiter, type KeyRateLimiter } from './rate-limiter.js';

/** Longest wait for PostgreSQL's answer to a take before this process's buckets answer instead. */
export const POSTGRES_TAKE_TIMEOUT_MS = 2000;
/** While a shared store is away, how often one request tries it again. */
export const RETRY_SHARED_EVERY_MS = 1000;

export interface KeyRateLimitSettings {
  perMinute: number;
  burst: number;
  /** The key store's pool on the shared PostgreSQL schema, when the keys are there. */
  pool?: pg.Pool | undefined;
  /** The shared SQLite file of the processes serving one data directory, when there is no PostgreSQL. */
  sqlite?: Database.Database | undefined;
  /** A Redis to keep the buckets in (redis:// or rediss://). */
  redisUrl?: string | undefined;
}

/**
 * The per-key rate limit as the deployment allows: in Redis when a Redis
 * URL is set (falling back to PostgreSQL, else this process, while it is
 * away), else in PostgreSQL when the keys are there (falling back to this
 * process), else in the data directory's shared file when several processes
 * serve it, else in this process. With the limit off (0 a minute), nothing
 * is opened. Logs one line saying where requests are counted.
 */
export async function openKeyRateLimiter(settings: KeyRateLimitSettings, logger: Logger): Promise<KeyRateLimiter> {
  const { perMinute, burst } = settings;
  const memory = new MemoryKeyLimiter(perMinute, burst);
  if (perMinute <= 0) {
    if (settings.redisUrl) logger.info('the per-key rate limit is off (0 a minute): Redis is not used');
    return memory;
  }
  let limiter: KeyRateLimiter = memory;
  let counted = 'in each server\'s memory (several servers each allow the full rate)';
  if (settings.pool) {
    const { PostgresKeyLimiter } = await import('./postgres-rate-limiter.js');
    limiter = new FallbackKeyLimiter(new PostgresKeyLimiter(settings.pool, perMinute, burst), memory, logger, {
      name: 'PostgreSQL',
      fallbackName: 'each server\'s memory',
      timeoutMs: POSTGRES_TAKE_TIMEOUT_MS,
      retryEveryMs: RETRY_SHARED_EVERY_MS,
    });
    counted = 'in PostgreSQL, shared by every server on the database';
  } else if (settings.sqlite) {
    const { SqliteKeyLimiter } = await import('./sqlite-rate-limiter.js');
    limiter = new SqliteKeyLimiter(settings.sqlite, perMinute, burst);
    counted = 'in the data directory, shared by every process serving it';
  }
  if (settings.redisUrl) {
    const { RedisKeyLimiter, REDIS_COMMAND_TIMEOUT_MS } = await import('./redis-rate-limiter.js');
    const where = `Redis at ${redactDatabaseUrl(settings.redisUrl)}`;
    const redis = await RedisKeyLimiter.open({ url: settings.redisUrl }, perMinute, burst);
    const fallback = new FallbackKeyLimiter(redis.limiter, limiter, logger, {
      name: where,
      fallbackName: settings.pool ? 'PostgreSQL' : settings.sqlite ? 'the data directory' : 'each server\'s memory',
      // The client's own timeout fires first; this one bounds the wait whatever the client does.
      timeoutMs: REDIS_COMMAND_TIMEOUT_MS * 2 + 100,
      retryEveryMs: RETRY_SHARED_EVERY_MS,
    });
    limiter = fallback;
    counted = `in ${where}, shared by every server using it`;
    logger.info({ perMinute, burst, where: limiter.where }, `per-key rate limit: ${perMinute} requests a minute, bursts of ${burst}, counted ${counted}`);
    // Said after where requests are meant to be counted: the warning says where they are counted meanwhile.
    if (!redis.connected) fallback.markDown(redis.reason ?? 'no answer');
    return limiter;
  }
  logger.info({ perMinute, burst, where: limiter.where }, `per-key rate limit: ${perMinute} requests a minute, bursts of ${burst}, counted ${counted}`);
  return limiter;
}
