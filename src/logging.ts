import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Never logged: memory text, tool arguments, and credentials wherever a header object carries them. */
export const REDACT = {
  paths: ['content', '*.content', 'args', '*.args', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', '*.*.headers.authorization'],
  censor: '[redacted]',
};

/** The longest string a log line carries: values often come from clients (names, stray messages, error texts). */
export const MAX_LOGGED_CHARS = 1024;
const MAX_LOGGED_ITEMS = 50;
const MAX_LOGGED_DEPTH = 5;

const clip = (text: string): string => (text.length > MAX_LOGGED_CHARS ? `${text.slice(0, MAX_LOGGED_CHARS)}… (${text.length} characters)` : text);

/** A value as a log line may carry it: strings clipped, arrays and objects cut short; errors are left to the err serializer. */
function bounded(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return clip(value);
  if (value instanceof Error) return value;
  if (value === null || typeof value !== 'object' || depth >= MAX_LOGGED_DEPTH) return value;
  // Dates and the like log as they serialize.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return bounded((value as { toJSON(): unknown }).toJSON(), depth);
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_LOGGED_ITEMS).map((item) => bounded(item, depth + 1));
    return value.length > MAX_LOGGED_ITEMS ? [...items, `… ${value.length - MAX_LOGGED_ITEMS} more`] : items;
  }
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, item] of Object.entries(value)) {
    if (kept++ === MAX_LOGGED_ITEMS) {
      out['…'] = 'more keys left out';
      break;
    }
    out[clip(key)] = bounded(item, depth + 1);
  }
  return out;
}

/**
 * A pino logger that writes synchronously to fd 2. stdout belongs to the MCP
 * protocol in stdio mode, and a synchronous destination means the last lines
 * before a crash are not lost in a buffer. Every string in a line is clipped
 * to about 1 KiB: a client's name or a stray message it sent must not grow
 * the log by its own size.
 */
export function createLogger(level: string, destinationFd = 2): Logger {
  return pino(
    {
      name: 'pinak-memory',
      level,
      base: { pid: process.pid },
      redact: REDACT,
      serializers: {
        msg: (msg: unknown) => (typeof msg === 'string' ? clip(msg) : msg),
        err: (error: Error) => bounded(pino.stdSerializers.err(error)),
      },
      formatters: { log: (object) => bounded(object) as Record<string, unknown> },
    },
    pino.destination({ fd: destinationFd, sync: true }),
  );
}

/** How many warnings of one kind are written per minute; the rest are counted. */
export const SAMPLED_PER_MINUTE = 10;
const WINDOW_MS = 60_000;

interface Window {
  start: number;
  written: number;
  left: number;
}

/**
 * Warnings that a client can cause at will (refused keys, stray messages)
 * are sampled: per kind, the first 10 a minute are written, and the number
 * left out is written once the minute is over, with the next warning of that
 * kind or within a minute of it.
 */
export class WarningSampler {
  private readonly windows = new Map<string, Window>();
  private readonly flusher: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    private readonly perMinute = SAMPLED_PER_MINUTE,
    private readonly now: () => number = Date.now,
  ) {
    this.flusher = setInterval(() => this.flush(), WINDOW_MS);
    this.flusher.unref();
  }

  warn(kind: string, object: Record<string, unknown>, message: string): void {
    const now = this.now();
    let window = this.windows.get(kind);
    if (window && now - window.start >= WINDOW_MS) {
      this.report(kind, window);
      window = undefined;
    }
    if (!window) this.windows.set(kind, (window = { start: now, written: 0, left: 0 }));
    if (window.written < this.perMinute) {
      window.written += 1;
      this.logger.warn(object, message);
    } else window.left += 1;
  }

  /** Report what was left out, and stop the timer. */
  close(): void {
    clearInterval(this.flusher);
    for (const [kind, window] of this.windows) this.report(kind, window);
    this.windows.clear();
  }

  /** Report and forget the windows that are over. */
  flush(): void {
    const now = this.now();
    for (const [kind, window] of this.windows) {
      if (now - window.start < WINDOW_MS) continue;
      this.report(kind, window);
      this.windows.delete(kind);
    }
  }

  private report(kind: string, window: Window): void {
    if (window.left > 0) this.logger.warn({ kind, left_out: window.left, seconds: Math.round((this.now() - window.start) / 1000) }, `${window.left} more warnings like "${kind}" were left out of the log`);
  }
}
