import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { LoggingLevel, ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { invalidParams } from '../tools/audited-request.js';
import { DEFAULT_LEVEL, LEVELS, severity, type ClientNotices, type Notice } from './notices.js';

const SetLevelMethod = z.looseObject({ method: z.literal('logging/setLevel'), params: z.unknown().optional() });

/** The logger name notifications/message carry. */
export const LOGGER = 'pinak-memory';

export interface ClientLog {
  /** Whether this client wants messages of this level. */
  allows(level: LoggingLevel): boolean;
  /** Stop listening for the tenant's notices (the connection closed). */
  dispose(): void;
}

export interface ClientLogOptions {
  /** The level this session set before (a session served by a fresh server per request keeps it elsewhere). */
  level?: LoggingLevel | null | undefined;
  /** Keep the level a client sets, where the session lives (see shared-streamable.ts). */
  onSetLevel?: ((level: LoggingLevel) => Promise<void>) | undefined;
}

const message = (notice: Notice): ServerNotification => ({ method: 'notifications/message', params: { level: notice.level, logger: LOGGER, data: notice.message } });

/**
 * MCP logging for one connection: `logging/setLevel` sets the least severe
 * level the client is sent (default info), and answers after sending the
 * tenant's standing notices at that level on the request's own stream, so a
 * client learns the state of things at the level it asked for. Once the
 * client says it is initialized, it is sent the standing notices, then every
 * new notice of its tenant as it is published.
 */
export function registerClientLog(server: Server, notices: ClientNotices, options: ClientLogOptions = {}): ClientLog {
  let level: LoggingLevel = options.level ?? DEFAULT_LEVEL;
  const allows = (wanted: LoggingLevel): boolean => severity(wanted) >= severity(level);
  const send = (notice: Notice): void => {
    if (!server.transport || !allows(notice.level)) return;
    server.notification(message(notice)).catch(() => {});
  };
  let unsubscribe: () => void = () => {};
  let disposed = false;

  // Registered loosely and checked here: a level MCP does not know is invalid params that say which there are.
  server.setRequestHandler(SetLevelMethod, async (raw, extra) => {
    const asked = (raw.params as { level?: unknown } | undefined)?.level;
    if (typeof asked !== 'string' || !(LEVELS as readonly string[]).includes(asked)) {
      throw invalidParams(`logging/setLevel needs params.level, one of ${LEVELS.join(', ')}; got ${JSON.stringify(asked ?? null)?.slice(0, 50)}`);
    }
    level = asked as LoggingLevel;
    await options.onSetLevel?.(level);
    for (const notice of notices.current()) {
      if (allows(notice.level)) await extra.sendNotification(message(notice)).catch(() => {});
    }
    return {};
  });

  server.oninitialized = () => {
    if (disposed) return;
    for (const notice of notices.current()) send(notice);
    unsubscribe();
    unsubscribe = notices.subscribe(send);
  };

  return {
    allows,
    dispose() {
      disposed = true;
      unsubscribe();
    },
  };
}
