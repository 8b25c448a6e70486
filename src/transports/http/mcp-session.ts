import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Principal } from '../../domain/principal.js';
import type { Runtime } from '../../runtime.js';
import { createServer } from '../../server.js';
import type { ClientLogOptions } from '../../surface/client-log.js';
import { CallLimitedTransport } from './call-limit.js';
import type { HttpSession } from './sessions.js';

/**
 * One MCP server (from the shared factory, over its tenant's runtime, for the
 * principal that opened the session) connected
 * to one HTTP session's transport through the per-session call limit.
 * `onClosed` runs once, however the session ends: DELETE, the client leaving,
 * idle expiry or shutdown.
 */
export async function connectSession(
  runtime: Runtime,
  principal: Principal,
  transport: Transport,
  options: {
    kind: HttpSession['kind'];
    id: () => string | undefined;
    maxCalls: number;
    onClosed: (id: string | undefined) => void;
    /** A session resumed from the shared directory: its audit id and what its client said at initialize. */
    resumed?: { auditSession: string; clientInfo: { name?: string | undefined; version?: string | undefined } } | undefined;
    /** The session's logging level, and where to keep a new one, when the session outlives this server. */
    log?: ClientLogOptions | undefined;
  },
): Promise<HttpSession> {
  const limited = new CallLimitedTransport(transport, options.maxCalls);
  const created = createServer(runtime, principal, {
    signalFor: (id) => limited.signalFor(id),
    sessionId: options.resumed?.auditSession,
    clientInfo: options.resumed?.clientInfo,
    log: options.log,
  });
  let closed = false;
  created.server.onclose = () => {
    if (closed) return;
    closed = true;
    created.dispose();
    options.onClosed(options.id());
  };
  await created.server.connect(limited);
  runtime.logger.debug({ session: options.id(), auditSession: created.sessionId, transport: options.kind }, 'MCP server connected');
  return {
    get id() {
      return options.id() ?? '';
    },
    kind: options.kind,
    principal,
    transport,
    get inFlight() {
      return limited.inFlight;
    },
    admitBatch: (body) => limited.admitBatch(body),
    close: () => created.close(),
  };
}
