import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { secondsUntil, type KeyRateLimiter, type Taken } from './rate-limiter.js';

/** Every key this server writes in Redis starts with this, so a Redis shared with other programs keeps ours apart. */
export const REDIS_KEY_PREFIX = 'pinak-memory:rate:';

/** How long a connection attempt may take, and how long a take may wait for its answer (Redis answers in well under a millisecond). */
export const REDIS_CONNECT_TIMEOUT_MS = 1000;
export const REDIS_COMMAND_TIMEOUT_MS = 500;
/** Longest pause between reconnection attempts while Redis is away. */
const RECONNECT_MAX_MS = 1000;

/**
 * One take, run atomically by Redis: refill the bucket (a hash: tokens, and
 * when it was last taken from, in milliseconds by Redis's own clock) for the
 * time elapsed, spend `count` when it holds that many, store it with a TTL
 * of a full refill (an idle bucket vanishes when it would be full anyway).
 * KEYS[1] the bucket; ARGV burst, tokens per millisecond, count, TTL in ms.
 * Numbers go back as text: Redis turns a Lua number into an integer.
 */
export const TAKE_SCRIPT = `
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tokens = burst
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
if saved[1] and saved[2] then
  local elapsed = now - tonumber(saved[2])
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(burst, tonumber(saved[1]) + elapsed * per_ms)
end
local granted = 0
if tokens >= count then
  tokens = tokens - count
  granted = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {granted, string.format('%.17g', tokens)}
`;

const SCRIPT_SHA1 = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

/** What connecting to Redis needs: the URL (redis:// or rediss://, possibly with a password) and the timeouts. */
export interface RedisSettings {
  url: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

/**
 * A client that never queues a command while disconnected (it fails at
 * once), and reconnects by itself, forever, at most a second apart.
 */
const newClient = (url: string, connectTimeout: number) =>
  createClient({
    url,
    name: 'pinak-memory',
    disableOfflineQueue: true,
    socket: { connectTimeout, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), RECONNECT_MAX_MS) },
  });

type Client = ReturnType<typeof newClient>;

/**
 * The buckets of every server using one Redis: each take is one EVALSHA of
 * TAKE_SCRIPT (EVAL when Redis does not know the script: first use, or
 * after a restart). The client never queues a command while disconnected
 * (it fails at once) and gives up on an answer after a short timeout, so a
 * request never waits long on an absent Redis: the caller falls back (see
 * fallback-rate-limiter.ts). It reconnects by itself, forever, at most a
 * second apart.
 */
export class RedisKeyLimiter implements KeyRateLimiter {
  readonly where = 'redis';
  /** The last connection error, which says more than "the client is offline". */
  private lastError: string | null = null;
  private readonly ttlMs: number;

  private constructor(
    private readonly client: Client,
    readonly perMinute: number,
    readonly burst: number,
    private readonly commandTimeoutMs: number,
  ) {
    this.ttlMs = perMinute > 0 ? Math.ceil((burst * 60_000) / perMinute) + 1000 : 0;
    client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    client.on('ready', () => {
      this.lastError = null;
    });
  }

  /**
   * A limiter on this Redis, connecting in the background. Resolves once
   * connected, or after the connect timeout with `connected: false` (it
   * keeps trying: takes fail fast until it is in).
   */
  static async open(settings: RedisSettings, perMinute: number, burst: number): Promise<{ limiter: RedisKeyLimiter; connected: boolean; reason: string | null }> {
    const connectTimeout = settings.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
    const client = newClient(settings.url, connectTimeout);
    const limiter = new RedisKeyLimiter(client, perMinute, burst, settings.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS);
    // connect() settles only once connected (or closed): reconnection attempts go on meanwhile.
    const connecting = client.connect().then(
      () => true,
      () => false,
    );
    const waited = new Promise<boolean>((resolve) => setTimeout(resolve, connectTimeout + 100, false).unref());
    const connected = await Promise.race([connecting, waited]);
    return { limiter, connected, reason: connected ? null : (limiter.lastError ?? `no answer within ${connectTimeout} ms`) };
  }

  async take(id: string, count = 1): Promise<Taken> {
    if (this.perMinute <= 0) return { ok: true };
    const args = [`${REDIS_KEY_PREFIX}${id}`, String(this.burst), String(this.perMinute / 60_000), String(count), String(this.ttlMs)];
    let reply: unknown;
    try {
      try {
        reply = await this.command(['EVALSHA', SCRIPT_SHA1, '1', ...args]);
      } catch (error) {
        if (!/^NOSCRIPT/.test((error as Error).message)) throw error;
        reply = await this.command(['EVAL', TAKE_SCRIPT, '1', ...args]);
      }
    } catch (error) {
      throw new Error(this.client.isReady ? (error as Error).message : (this.lastError ?? (error as Error).message), { cause: error });
    }
    const [granted, tokens] = Array.isArray(reply) ? reply : [];
    if (Number(granted) === 1) return { ok: true };
    const left = Number(tokens);
    if (!Number.isFinite(left)) throw new Error('Redis answered the rate limit script with something else than its two values');
    return { ok: false, retryAfterSeconds: secondsUntil(left, Math.min(count, this.burst), this.perMinute) };
  }

  private command(args: string[]): Promise<unknown> {
    return this.client.sendCommand(args, { timeout: this.commandTimeoutMs, rejectInFlight: true });
  }

  async close(): Promise<void> {
    // Nothing to hand over: the buckets stay in Redis. destroy() does not wait for an absent server.
    this.client.destroy();
  }
}
