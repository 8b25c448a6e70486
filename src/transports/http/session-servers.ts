import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../../domain/principal.js';
import type { Runtime } from '../../runtime.js';
import { connectSession } from './mcp-session.js';
import { PostMultiplexer } from './post-multiplexer.js';
import type { SharedSession } from './session-directory.js';
import type { HttpSession } from './sessions.js';

/** A kept server unused this long is closed: the next POST of its session builds one again. */
export const KEEP_IDLE_MS = 30_000;

interface Kept {
  readonly served: HttpSession;
  readonly mux: PostMultiplexer;
  readonly runtime: Runtime;
  /** Who it serves, as every audit row it writes says it: principal, tenant, role, namespaces, address. */
  readonly principalKey: string;
  /** The session's logging level as this server holds it (set by the client through it, or built with). */
  readonly log: { level: LoggingLevel | null };
  /** POSTs being served now: a server is closed only when none is. */
  busy: number;
  lastUsed: number;
  retired: boolean;
}

export interface SessionServerOptions {
  maxCalls: number;
  /** Most servers kept between POSTs; beyond, the least recently used idle one is closed. */
  maxKept: number;
  /** Keep the level a client sets where the session lives (the shared directory). */
  onSetLevel: (sessionId: string, level: LoggingLevel) => Promise<void>;
  now?: () => number;
}

const principalKey = (p: Principal): string => JSON.stringify([p.id, p.tenant, p.role, p.namespaces, p.remoteAddress, p.expiresAt ?? null]);

/**
 * The MCP servers of the shared sessions (see shared-streamable.ts) this
 * process served lately, kept between their POSTs: building and closing a
 * server for every POST cost about a twentieth of a call's CPU. A kept
 * server serves its session's next POST if nothing it was built with has
 * changed since: the tenant's runtime (a tenant closed and opened again), the
 * principal (its address, a renewed token's expiry) and the logging level (set
 * through another process). Any other process may serve the session's other
 * POSTs with a server of its own; the session itself, its audit id and its
 * level live in the directory, which is asked at every POST as before.
 *
 * Requests in flight are counted per kept server, so `--max-calls-per-session`
 * holds for the session in each process that serves it, and a cancellation
 * reaches a request of the session's other POSTs served here.
 */
export class SessionServers {
  private readonly kept = new Map<string, Kept>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: SessionServerOptions) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), KEEP_IDLE_MS / 3);
    this.sweeper.unref();
  }

  /** Servers kept now, for tests and metrics. */
  get size(): number {
    return this.kept.size;
  }

  /**
   * The server for one POST of `session` over `runtime` (the tenant's, leased
   * for this POST): the kept one if it still fits, else a new one, kept once
   * the POST ends; `level` is the session's logging level as the directory
   * holds it (null: none set). Call `done` when the POST has ended.
   */
  async take(session: SharedSession, runtime: Runtime, level: LoggingLevel | null): Promise<{ served: HttpSession; mux: PostMultiplexer; done: () => void }> {
    const key = principalKey(session.principal);
    let entry = this.kept.get(session.id);
    if (entry && (entry.runtime !== runtime || entry.principalKey !== key || entry.log.level !== level)) {
      this.retire(session.id, entry);
      entry = undefined;
    }
    if (!entry) entry = await this.build(session, runtime, key, level);
    const used = entry;
    used.busy += 1;
    used.lastUsed = this.now();
    let ended = false;
    return {
      served: used.served,
      mux: used.mux,
      done: () => {
        if (ended) return;
        ended = true;
        used.busy -= 1;
        used.lastUsed = this.now();
        if (used.retired && used.busy === 0) void this.close(used);
        else this.trim();
      },
    };
  }

  /** The session ended (DELETE, or the directory no longer knows it): its server goes once idle. */
  forget(sessionId: string): void {
    const entry = this.kept.get(sessionId);
    if (entry) this.retire(sessionId, entry);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const all = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(all.map((entry) => this.close(entry)));
  }

  private async build(session: SharedSession, runtime: Runtime, key: string, level: LoggingLevel | null): Promise<Kept> {
    const mux = new PostMultiplexer();
    const log = { level };
    const served = await connectSession(runtime, session.principal, mux, {
      kind: 'streamable',
      id: () => session.id,
      maxCalls: this.options.maxCalls,
      onClosed: () => {},
      resumed: { auditSession: session.auditSession, clientInfo: session.clientInfo },
      log: {
        level,
        onSetLevel: async (next) => {
          // This server now holds the new level: the directory's row, read at the next POST, says the same.
          log.level = next;
          await this.options.onSetLevel(session.id, next);
        },
      },
    });
    const entry: Kept = { served, mux, runtime, principalKey: key, log, busy: 0, lastUsed: this.now(), retired: false };
    // Shut down meanwhile, or another POST of the session built one first: this one serves this POST alone.
    if (this.closed || this.kept.has(session.id)) entry.retired = true;
    else this.kept.set(session.id, entry);
    return entry;
  }

  private retire(sessionId: string, entry: Kept): void {
    if (this.kept.get(sessionId) === entry) this.kept.delete(sessionId);
    entry.retired = true;
    if (entry.busy === 0) void this.close(entry);
  }

  /** Over the cap: close idle servers, least recently used first. */
  private trim(): void {
    if (this.kept.size <= this.options.maxKept) return;
    const idle = [...this.kept].filter(([, e]) => e.busy === 0).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [id, entry] of idle.slice(0, this.kept.size - this.options.maxKept)) this.retire(id, entry);
  }

  private sweep(): void {
    const before = this.now() - KEEP_IDLE_MS;
    for (const [id, entry] of this.kept) if (entry.busy === 0 && entry.lastUsed < before) this.retire(id, entry);
  }

  private async close(entry: Kept): Promise<void> {
    await entry.served.close().catch(() => {});
  }
}
