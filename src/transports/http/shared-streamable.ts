import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, type InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { newId } from '../../domain/ids.js';
import type { Principal } from '../../domain/principal.js';
import { chargeBatch } from './auth-gate.js';
import type { HttpContext } from './context.js';
import { readJsonBody } from './guards.js';
import { connectSession } from './mcp-session.js';
import { RPC, sendJson, sendRpcError, sendSessionLimit, sendUnavailable } from './responses.js';
import type { SessionDirectory, SharedSession } from './session-directory.js';

/**
 * `/mcp` when sessions live in the database (`--http-sessions database`):
 * MCP Streamable HTTP whose every request may reach any replica behind a
 * plain round-robin proxy. A session is a row of the shared directory, not a
 * connection: each POST is served by a fresh MCP server over a stateless SDK
 * transport, told the session's audit id and what its client said at
 * initialize. What this gives up, and a client can rely on without: the
 * standalone GET stream (405, which the MCP specification allows: this
 * server sends no notifications of its own), and cancelling a request from
 * another POST (its answer simply comes). The in-flight limit per session
 * applies per POST. A database gone away is the server's 503 (see http-server.ts).
 */
export async function handleSharedStreamable(ctx: HttpContext, directory: SessionDirectory, principal: Principal, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? '';
  if (method === 'GET') {
    return sendRpcError(res, 405, RPC.serverError, 'Method Not Allowed: this server sends no notifications of its own, so it keeps no GET stream; POST requests to /mcp', { allow: 'POST, DELETE' });
  }
  if (method !== 'POST' && method !== 'DELETE') {
    return sendRpcError(res, 405, RPC.serverError, `Method Not Allowed: ${method} /mcp (use POST or DELETE)`, { allow: 'POST, DELETE' });
  }
  const header = req.headers['mcp-session-id'];
  const sessionId = Array.isArray(header) ? header[0] : header;
  if (method === 'DELETE') {
    if (sessionId === undefined) return sendRpcError(res, 400, RPC.invalidRequest, 'Bad Request: no Mcp-Session-Id header to end');
    if (!(await directory.end(sessionId, principal))) return sessionNotFound(res);
    return sendJson(res, 200, {});
  }
  const read = await readJsonBody(req, ctx.options.maxBodyBytes);
  if (!read.ok) return sendRpcError(res, read.status, read.code, read.message, read.status === 413 ? { connection: 'close' } : {});
  const body = read.value;
  if (!(await chargeBatch(ctx, req, res, principal, body))) return;
  if (sessionId !== undefined) {
    const session = await directory.use(sessionId, principal);
    if (!session) return sessionNotFound(res);
    return serveRequest(ctx, session, req, res, body);
  }
  const initialize = initializeOf(body);
  if (!initialize) {
    const message = Array.isArray(body) && body.some(isInitializeRequest)
      ? 'Invalid Request: an initialize request must be sent alone, not in a batch'
      : 'Bad Request: no Mcp-Session-Id header; start a session with an initialize request first';
    return sendRpcError(res, 400, RPC.invalidRequest, message);
  }
  if (ctx.closing()) return sendUnavailable(res, true, directory.limits.maxSessions);
  await openSession(ctx, directory, principal, initialize, req, res);
}

const sessionNotFound = (res: ServerResponse): void =>
  sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found: it ended or expired; start a new one with an initialize request');

/** The initialize request, when the body is one (alone, or the only message of a batch). */
function initializeOf(body: unknown): InitializeRequest | undefined {
  const message = Array.isArray(body) && body.length === 1 ? body[0] : body;
  return isInitializeRequest(message) ? message : undefined;
}

/** Record the session (within the limits), name it in the response, and answer the initialize request. */
async function openSession(ctx: HttpContext, directory: SessionDirectory, principal: Principal, initialize: InitializeRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { clientInfo } = initialize.params;
  const session: SharedSession = { id: newId(), principal, auditSession: newId(), clientInfo: { name: clientInfo.name, version: clientInfo.version } };
  const refusal = await directory.create(session);
  if (refusal) return sendSessionLimit(res, refusal, directory.limits);
  // The stateless transport names no session: the header is ours, merged into the headers it writes.
  res.setHeader('mcp-session-id', session.id);
  try {
    await serveRequest(ctx, session, req, res, initialize);
  } finally {
    // Refused by the server (a bad protocol version header, say): no session came of it.
    if (res.statusCode >= 400) await directory.forget(session.id).catch(() => {});
  }
}

/** Serve one POST of a session with a fresh MCP server over its principal's tenant; both end with the response. */
async function serveRequest(ctx: HttpContext, session: SharedSession, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const lease = await ctx.tenants.acquire(session.principal.tenant);
  // One JSON body, written once every answer is ready, not an SSE stream opened at once: a replica that dies
  // mid-call then leaves no response begun, and the proxy answers 502 at once, where a stream it had started
  // would keep the client waiting for its own timeout. This server sends no notifications that a stream would carry.
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    lease.release();
  };
  try {
    const served = await connectSession(lease.runtime, session.principal, transport, {
      kind: 'streamable',
      id: () => session.id,
      maxCalls: ctx.options.maxCallsPerSession,
      onClosed: release,
      resumed: { auditSession: session.auditSession, clientInfo: session.clientInfo },
    });
    res.once('close', () => void served.close().catch(() => {}));
    const { refusal, release: releaseIds } = served.admitBatch(body);
    if (refusal) {
      sendRpcError(res, refusal.status, refusal.code, refusal.message);
      return;
    }
    try {
      await transport.handleRequest(req, res, body);
    } finally {
      releaseIds();
    }
  } catch (error) {
    release();
    throw error;
  }
}
