import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, SUPPORTED_PROTOCOL_VERSIONS, type InitializeRequest, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { newId } from '../../domain/ids.js';
import { LEVELS } from '../../surface/notices.js';
import type { Principal } from '../../domain/principal.js';
import { chargeBatch } from './auth-gate.js';
import type { HttpContext } from './context.js';
import { readJsonBody } from './guards.js';
import { connectSession } from './mcp-session.js';
import { RPC, sendJson, sendRpcError, sendSessionLimit, sendUnavailable } from './responses.js';
import type { SessionDirectory, SharedSession } from './session-directory.js';
import type { SessionServers } from './session-servers.js';
import type { HttpSession } from './sessions.js';
import type { Runtime } from '../../runtime.js';

/**
 * `/mcp` when sessions live in the database (`--http-sessions database`):
 * MCP Streamable HTTP whose every request may reach any replica behind a
 * plain round-robin proxy. A session is a row of the shared directory, not a
 * connection: each POST is read and answered by a stateless SDK transport of
 * its own, and served by the session's MCP server in this process (kept
 * between its POSTs, see session-servers.ts), told the session's audit id and
 * what its client said at initialize. What this gives up, and a client can
 * rely on without: the standalone GET stream (405, which the MCP
 * specification allows), so the notices a server sends of its own accord
 * (notifications/message) reach a client only on the stream of a POST that
 * asks for notifications (see wantsNotifications), and cancelling a request
 * from a POST another process serves (its answer simply comes). The in-flight
 * limit per session holds in each process. A database gone away is the
 * server's 503 (see http-server.ts).
 *
 * A POST without a session that is not an initialize request is served on
 * its own, statelessly, as the SDK's stateless transport allows: no session
 * row, a fresh audit session, the client named by the request's `_meta`
 * (`io.modelcontextprotocol/clientInfo`, as the 2026-07-28 revision carries
 * it). The protocol version is the SDK's to check: the MCP-Protocol-Version
 * header, and here the `_meta` version, must be one it supports (2025-11-25
 * and earlier), so a 2026-07-28 request is refused with 400 rather than
 * answered in a shape its client does not expect (see docs/protocol.md).
 */
export async function handleSharedStreamable(ctx: HttpContext, directory: SessionDirectory, principal: Principal, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? '';
  if (method === 'GET') {
    return sendRpcError(res, 405, RPC.serverError, 'Method Not Allowed: a session any replica may serve keeps no GET stream (notifications come on the stream of the POST that asks for them, with a progress token or logging/setLevel); POST requests to /mcp', { allow: 'POST, DELETE' });
  }
  if (method !== 'POST' && method !== 'DELETE') {
    return sendRpcError(res, 405, RPC.serverError, `Method Not Allowed: ${method} /mcp (use POST or DELETE)`, { allow: 'POST, DELETE' });
  }
  const header = req.headers['mcp-session-id'];
  const sessionId = Array.isArray(header) ? header[0] : header;
  if (method === 'DELETE') {
    if (sessionId === undefined) return sendRpcError(res, 400, RPC.invalidRequest, 'Bad Request: no Mcp-Session-Id header to end');
    if (!(await directory.end(sessionId, principal))) return sessionNotFound(res);
    ctx.servers?.forget(sessionId);
    return sendJson(res, 200, {});
  }
  const read = await readJsonBody(req, ctx.options.maxBodyBytes);
  if (!read.ok) return sendRpcError(res, read.status, read.code, read.message, read.status === 413 ? { connection: 'close' } : {});
  const body = read.value;
  if (!(await chargeBatch(ctx, req, res, principal, body))) return;
  if (sessionId !== undefined) {
    const session = await directory.use(sessionId, principal);
    if (!session) {
      ctx.servers?.forget(sessionId);
      return sessionNotFound(res);
    }
    return serveRequest(ctx, directory, session, req, res, body);
  }
  const initialize = initializeOf(body);
  if (!initialize) {
    if (Array.isArray(body) && body.some(isInitializeRequest)) {
      return sendRpcError(res, 400, RPC.invalidRequest, 'Invalid Request: an initialize request must be sent alone, not in a batch');
    }
    return serveStateless(ctx, principal, req, res, body);
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

/** The `_meta` keys of the 2026-07-28 revision's per-request envelope that a stateless request may carry. */
const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';
const CLIENT_INFO_META_KEY = 'io.modelcontextprotocol/clientInfo';

/** The `_meta` object of each message of a body (one message or a batch) that has one. */
function metasOf(body: unknown): Array<Record<string, unknown>> {
  return (Array.isArray(body) ? body : [body]).flatMap((message) => {
    const meta = (message as { params?: { _meta?: unknown } } | null)?.params?._meta;
    return meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? [meta as Record<string, unknown>] : [];
  });
}

/**
 * Why a stateless request cannot be served, if it cannot: a `_meta` protocol
 * version the SDK does not support, or one that differs from the
 * MCP-Protocol-Version header. (The header alone the SDK's transport checks.)
 */
function versionRefusal(req: IncomingMessage, metas: Array<Record<string, unknown>>): string | undefined {
  const header = req.headers['mcp-protocol-version'];
  for (const meta of metas) {
    const version = meta[PROTOCOL_VERSION_META_KEY];
    if (version === undefined) continue;
    if (typeof version !== 'string' || !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return `Bad Request: Unsupported protocol version in _meta: ${JSON.stringify(version).slice(0, 64)} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`;
    }
    if (header !== undefined && header !== version) {
      return `Bad Request: the MCP-Protocol-Version header (${String(header).slice(0, 64)}) and _meta (${version}) name different protocol versions`;
    }
  }
  return undefined;
}

/** What the request's `_meta` says about its client, when it says it as the envelope does: `{ name, version }` strings. */
function clientInfoOf(metas: Array<Record<string, unknown>>): SharedSession['clientInfo'] {
  for (const meta of metas) {
    const info = meta[CLIENT_INFO_META_KEY] as { name?: unknown; version?: unknown } | null | undefined;
    if (info !== null && typeof info === 'object' && typeof info.name === 'string') {
      return { name: info.name, version: typeof info.version === 'string' ? info.version : undefined };
    }
  }
  return {};
}

/** Serve a POST that names no session and opens none: a fresh MCP server for this request alone, under a fresh audit session. */
async function serveStateless(ctx: HttpContext, principal: Principal, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const metas = metasOf(body);
  const refusal = versionRefusal(req, metas);
  if (refusal) return sendRpcError(res, 400, RPC.serverError, refusal);
  const request: SharedSession = { id: '', principal, auditSession: newId(), clientInfo: clientInfoOf(metas) };
  // No session to keep a log level in: a logging/setLevel here holds for this request alone.
  await serveRequest(ctx, null, request, req, res, body);
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
    await serveRequest(ctx, directory, session, req, res, initialize);
  } finally {
    // Refused by the server (a bad protocol version header, say): no session came of it.
    if (res.statusCode >= 400) {
      ctx.servers?.forget(session.id);
      await directory.forget(session.id).catch(() => {});
    }
  }
}

/**
 * Whether a POST holds a request whose answer comes with notifications: one
 * carrying a progress token (notifications/progress), or logging/setLevel
 * (the standing notices at the new level).
 */
export function wantsNotifications(body: unknown): boolean {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  return messages.some((message) => {
    const m = message as { method?: unknown; id?: unknown; params?: { _meta?: { progressToken?: unknown } } } | null;
    if (!m || typeof m !== 'object' || m.id === undefined) return false;
    return m.method === 'logging/setLevel' || (m.params?._meta?.progressToken ?? undefined) !== undefined;
  });
}

const isLevel = (value: string | null | undefined): value is LoggingLevel => value != null && (LEVELS as readonly string[]).includes(value);

/**
 * Serve one POST of a session (or of no session: `directory` null) over its
 * principal's tenant: on the session's kept server (session-servers.ts), or
 * with a fresh MCP server for this POST alone when there is no session to
 * keep one for; the POST's own stateless SDK transport ends with the response.
 */
async function serveRequest(ctx: HttpContext, directory: SessionDirectory | null, session: SharedSession, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const lease = await ctx.tenants.acquire(session.principal.tenant);
  // One JSON body, written once every answer is ready, not an SSE stream opened at once: a replica that dies
  // mid-call then leaves no response begun, and the proxy answers 502 at once, where a stream it had started
  // would keep the client waiting for its own timeout. Only a POST whose requests come with notifications
  // (a progress token, logging/setLevel) is answered as a stream, which carries them before the answer.
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !wantsNotifications(body) });
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    lease.release();
  };
  try {
    // The level a client set lives with its session in the directory; a value it does not know is no level.
    const level = isLevel(session.logLevel) ? session.logLevel : null;
    if (directory && ctx.servers) return await serveOnKeptServer(ctx.servers, session, lease.runtime, level, transport, release, req, res, body);
    const served = await connectSession(lease.runtime, session.principal, transport, {
      kind: 'streamable',
      id: () => session.id,
      maxCalls: ctx.options.maxCallsPerSession,
      onClosed: release,
      resumed: { auditSession: session.auditSession, clientInfo: session.clientInfo },
      // A server for this POST alone: a level set here holds for this request.
      log: { level },
    });
    res.once('close', () => void served.close().catch(() => {}));
    await handleOn(served, transport, req, res, body);
  } catch (error) {
    release();
    throw error;
  }
}

/** Serve a POST on its session's kept server; the POST's transport closes, and `ended` runs, when the response does. */
async function serveOnKeptServer(servers: SessionServers, session: SharedSession, runtime: Runtime, level: LoggingLevel | null, transport: StreamableHTTPServerTransport, ended: () => void, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const { served, mux, done } = await servers.take(session, runtime, level);
  const end = (): void => {
    void transport.close().catch(() => {});
    done();
    ended();
  };
  if (res.closed) return end();
  res.once('close', end);
  await mux.attach(transport);
  await handleOn(served, transport, req, res, body);
}

/** Admit the POST's messages to the session (the in-flight limit, unique ids) and let the SDK's transport answer them. */
async function handleOn(served: HttpSession, transport: StreamableHTTPServerTransport, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const { refusal, release: releaseIds } = served.admitBatch(body);
  if (refusal) return sendRpcError(res, refusal.status, refusal.code, refusal.message);
  try {
    await transport.handleRequest(req, res, body);
  } finally {
    releaseIds();
  }
}
