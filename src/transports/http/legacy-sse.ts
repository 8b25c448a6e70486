import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../../domain/principal.js';
import type { HttpContext } from './context.js';
import { readJsonBody } from './guards.js';
import { RPC, sendRpcError, sendSessionLimit, sendUnavailable } from './responses.js';
import { admitSession, connectTenantSession } from './tenant-session.js';
import { WORKER_PARAMETER } from './worker-forwarding.js';

/** Where legacy SSE clients post their messages (the SDK tells them in the stream's first event). */
export const MESSAGES_PATH = '/messages';

/** The query parameter of the announced endpoint naming the replica that holds the stream. */
export const REPLICA_PARAMETER = 'replica';

/**
 * The endpoint a stream announces, before the SDK appends `sessionId`: with a
 * replica name, `/messages?replica=NAME`, so that a proxy in front of several
 * servers can send each message to the one holding the session's stream.
 */
export function messagesEndpoint(replicaName: string | null, workerId: number | null = null): string {
  const query = new URLSearchParams();
  if (replicaName !== null) query.set(REPLICA_PARAMETER, replicaName);
  // Among workers, the one holding the stream: whichever receives a message passes it on (worker-forwarding.ts).
  if (workerId !== null) query.set(WORKER_PARAMETER, String(workerId));
  const text = query.toString();
  return text === '' ? MESSAGES_PATH : `${MESSAGES_PATH}?${text}`;
}

/**
 * `GET /sse`: the legacy HTTP+SSE transport (protocol 2024-11-05) for older
 * clients. The response stays open as the server-to-client stream; the
 * session lasts until the client disconnects, it expires, or shutdown.
 */
export async function openSse(ctx: HttpContext, principal: Principal, res: ServerResponse): Promise<void> {
  const reservation = admitSession(ctx, principal, res);
  if (!reservation) return;
  const transport = new SSEServerTransport(messagesEndpoint(ctx.options.replicaName, ctx.forwarding ? ctx.options.workerId : null), res);
  try {
    // With sessions in the database, the stream counts against the deployment's limits too, while it is open.
    if (ctx.directory) {
      const refusal = await ctx.directory.create({ id: transport.sessionId, principal, auditSession: transport.sessionId, clientInfo: {} }, 'sse');
      if (refusal) {
        reservation.release();
        return sendSessionLimit(res, refusal, ctx.directory.limits);
      }
      const directory = ctx.directory;
      res.once('close', () => void directory.forget(transport.sessionId).catch(() => {}));
    }
    const { session } = await connectTenantSession(ctx, principal, reservation, transport, 'sse');
    reservation.commit(session);
  } catch (error) {
    reservation.release();
    throw error;
  }
}

/** `POST /messages?sessionId=…`: one client message for a legacy SSE session; answered 202, the reply goes down the stream. */
export async function postSseMessage(ctx: HttpContext, principal: Principal, req: IncomingMessage, res: ServerResponse, sessionId: string | null): Promise<void> {
  const session = sessionId ? ctx.registry.use(sessionId, 'sse', principal) : undefined;
  if (!session && ctx.closing()) return sendUnavailable(res, true, ctx.registry.maxSessions);
  if (!session) return sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found: open a stream with GET /sse and post to the endpoint it announces');
  const read = await readJsonBody(req, ctx.options.maxBodyBytes);
  if (!read.ok) return sendRpcError(res, read.status, read.code, read.message, read.status === 413 ? { connection: 'close' } : {});
  if (!JSONRPCMessageSchema.safeParse(read.value).success) {
    return sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: the body is not one JSON-RPC 2.0 message');
  }
  // The stream may have closed while the body was read.
  if (!ctx.registry.use(session.id, 'sse', principal)) return sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found: the stream closed; open a new one with GET /sse');
  await (session.transport as SSEServerTransport).handlePostMessage(req, res, read.value);
}
