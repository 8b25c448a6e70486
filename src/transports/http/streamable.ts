import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../../domain/principal.js';
import type { HttpContext } from './context.js';
import { chargeBatch } from './auth-gate.js';
import { readJsonBody } from './guards.js';
import { RPC, sendRpcError, sendUnavailable } from './responses.js';
import type { HttpSession, Reservation } from './sessions.js';
import { admitSession, connectTenantSession } from './tenant-session.js';

/** Whether a POST body (one message or a batch) starts a session. */
const initializes = (body: unknown): boolean => (Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body));

/**
 * `/mcp`: MCP Streamable HTTP, stateful. An initialize POST without a session
 * id opens a session (one MCP server over its principal's tenant runtime);
 * every other request names its session in the Mcp-Session-Id header, and
 * must come from the same principal. DELETE ends it.
 */
export async function handleStreamable(ctx: HttpContext, principal: Principal, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? '';
  if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
    return sendRpcError(res, 405, RPC.serverError, `Method Not Allowed: ${method} /mcp (use POST, GET or DELETE)`, { allow: 'GET, POST, DELETE' });
  }
  let body: unknown;
  if (method === 'POST') {
    const read = await readJsonBody(req, ctx.options.maxBodyBytes);
    if (!read.ok) return sendRpcError(res, read.status, read.code, read.message, read.status === 413 ? { connection: 'close' } : {});
    body = read.value;
    if (!(await chargeBatch(ctx, req, res, principal, body))) return;
  }
  const header = req.headers['mcp-session-id'];
  const sessionId = Array.isArray(header) ? header[0] : header;
  if (sessionId !== undefined) {
    const session = ctx.registry.use(sessionId, 'streamable', principal);
    if (!session) return ctx.closing() ? sendUnavailable(res, true, ctx.registry.maxSessions) : sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found: it ended or expired; start a new one with an initialize request');
    return handleInSession(session, req, res, body);
  }
  if (method !== 'POST' || !initializes(body)) {
    return sendRpcError(res, 400, RPC.invalidRequest, 'Bad Request: no Mcp-Session-Id header; start a session with an initialize request first');
  }
  const reservation = admitSession(ctx, principal, res);
  if (!reservation) return;
  await openSession(ctx, principal, reservation, req, res, body);
}

/** Pass one request to its session's transport, once its messages are admitted (batch size, request ids). */
async function handleInSession(session: HttpSession, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const { refusal, release } = method(req) === 'POST' ? session.admitBatch(body) : { refusal: null, release: () => {} };
  if (refusal) return sendRpcError(res, refusal.status, refusal.code, refusal.message);
  try {
    await (session.transport as StreamableHTTPServerTransport).handleRequest(req, res, body);
  } finally {
    release();
  }
}

const method = (req: IncomingMessage): string => req.method ?? '';

async function openSession(ctx: HttpContext, principal: Principal, reservation: Reservation, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  let session: HttpSession | undefined;
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: randomUUID,
    onsessioninitialized: () => {
      if (session) reservation.commit(session);
    },
  });
  let releaseTenant: (() => void) | undefined;
  try {
    ({ session, releaseTenant } = await connectTenantSession(ctx, principal, reservation, transport, 'streamable'));
    await handleInSession(session, req, res, body);
  } finally {
    // The initialize request was refused (bad version, bad message): no session came of it.
    if (transport.sessionId === undefined) {
      reservation.release();
      await session?.close();
      releaseTenant?.();
    }
  }
}
