import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

/** MCP's log levels, least severe first (RFC 5424's, as the specification lists them). */
export const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** What a client that never called logging/setLevel is sent: info and above. */
export const DEFAULT_LEVEL: LoggingLevel = 'info';

export const severity = (level: LoggingLevel): number => LEVELS.indexOf(level);

/** Something a client of the tenant should know about the server's state: sent as notifications/message. */
export interface Notice {
  readonly level: LoggingLevel;
  /** One per condition: a newer notice of the same kind replaces a standing one. */
  readonly kind: string;
  readonly message: string;
}

/**
 * The notices of one tenant's runtime for its connected clients: conditions
 * that stand (the configured embedding model could not be loaded, the vector
 * index was rebuilt) are kept and sent to each client when it says it is
 * initialized and again after each logging/setLevel; each notice is also
 * sent at once to every client connected when it is published. The log on
 * stderr is unchanged: this is what a client is shown, never memory text.
 */
export class ClientNotices {
  private readonly standing = new Map<string, Notice>();
  private readonly listeners = new Set<(notice: Notice) => void>();

  /** Tell every connected client; a standing notice is also kept for clients that connect later. */
  publish(notice: Notice, options: { standing: boolean }): void {
    if (options.standing) this.standing.set(notice.kind, notice);
    for (const listener of this.listeners) listener(notice);
  }

  /** The condition is over. */
  clear(kind: string): void {
    this.standing.delete(kind);
  }

  current(): Notice[] {
    return [...this.standing.values()];
  }

  /** Listen until the returned function is called (the connection closed). */
  subscribe(listener: (notice: Notice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listening(): number {
    return this.listeners.size;
  }
}

/** Tell clients how the vector index came up, when they should know: rebuilt, replayed, or not opened at all. */
export function noticeIndexStart(notices: ClientNotices, start: { mode: 'snapshot' | 'rebuild'; replayed: number; reason: string | null } | null, vectors: number): void {
  if (start === null) {
    notices.publish({ level: 'error', kind: 'vector-index', message: 'the vector index could not be opened: searches answer from the keyword index only (the server log says why)' }, { standing: true });
  } else if (start.mode === 'rebuild' && vectors > 0) {
    const why = start.reason === 'no snapshot yet' ? 'it had no snapshot' : 'its snapshot could not be used';
    notices.publish({ level: 'warning', kind: 'vector-index', message: `the vector index was rebuilt from the database (${vectors} vector${vectors === 1 ? '' : 's'}; ${why}): until its graph catches up, vector searches scan exactly and may be slower` }, { standing: true });
  } else if (start.mode === 'snapshot' && start.replayed > 0) {
    notices.publish({ level: 'notice', kind: 'vector-index', message: `the vector index was loaded from its snapshot and replayed ${start.replayed} later changes from the database` }, { standing: true });
  }
}

