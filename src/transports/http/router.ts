import type { IncomingMessage, ServerResponse } from 'node:http';
import { admit } from './auth-gate.js';
import type { HttpContext } from './context.js';
import { repeatedHostRefusal, type HeaderPolicy } from './guards.js';
import { MESSAGES_PATH, openSse, postSseMessage } from './legacy-sse.js';
import { serveMetrics } from './metrics-endpoint.js';
import { RPC, sendJson, sendRpcError } from './responses.js';
import { handleSharedStreamable } from './shared-streamable.js';
import { handleStreamable } from './streamable.js';
import { serveUi } from './ui-endpoint.js';
import { WORKER_PARAMETER } from './worker-forwarding.js';

/**
 * Send one HTTP request where it belongs: the Host/Origin check first (but
 * for the probes), then MCP (Streamable HTTP and legacy SSE), metrics, the
 * probes and the memory browser, each with the methods it allows.
 */
export async function route(ctx: HttpContext, policy: HeaderPolicy, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const repeatedHost = repeatedHostRefusal(req);
  if (repeatedHost) return sendRpcError(res, 400, RPC.invalidRequest, repeatedHost, { connection: 'close' });
  // The probes answer whatever the Host: they carry no data (a fixed status
  // word, and the replica name every legacy SSE client is told anyway), so a
  // rebinding page learns nothing from them, while load balancers and
  // orchestrators probe by an address no allowlist names.
  const target = (req.url ?? '').split('?')[0]!;
  const refusal = PROBES.has(target) ? null : policy.refusal(req, { ownPages: target === '/ui' || target.startsWith('/ui/') });
  if (refusal) {
    ctx.runtime.metrics.refused('host_not_allowed');
    return sendRpcError(res, 403, RPC.serverError, refusal);
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return sendJson(res, 400, { error: 'Bad Request: the request target is not a valid path' });
  }
  const method = req.method ?? '';
  const only = (allowed: string): boolean => {
    if (allowed.split(', ').includes(method)) return true;
    sendJson(res, 405, { error: `Method Not Allowed: ${method} ${url.pathname} (use ${allowed})` }, { allow: allowed });
    return false;
  };
  switch (url.pathname) {
    case '/mcp': {
      const principal = await admit(ctx, req, res, url.pathname);
      if (principal && ctx.directory) await handleSharedStreamable(ctx, ctx.directory, principal, req, res);
      else if (principal) await handleStreamable(ctx, principal, req, res);
      return;
    }
    case '/sse': {
      if (!only('GET')) return;
      const principal = await admit(ctx, req, res, url.pathname);
      if (principal) await openSse(ctx, principal, res);
      return;
    }
    case MESSAGES_PATH: {
      if (!only('POST')) return;
      // Passed on by the worker that received it, which admitted it (key, rate limit) already.
      const forwarded = ctx.forwarding?.principalOf(req) ?? null;
      const principal = forwarded ?? (await admit(ctx, req, res, url.pathname));
      if (!principal) return;
      const owner = Number(url.searchParams.get(WORKER_PARAMETER) ?? '');
      if (!forwarded && ctx.forwarding && Number.isInteger(owner) && owner > 0 && owner !== ctx.forwarding.workerId) {
        return ctx.forwarding.forward(owner, principal, req, res);
      }
      await postSseMessage(ctx, principal, req, res, url.searchParams.get('sessionId'));
      return;
    }
    case '/metrics':
      if (only('GET')) await serveMetrics(ctx, req, res, url.pathname);
      return;
    case '/healthz':
      if (only('GET, HEAD')) sendJson(res, 200, { status: 'ok' });
      return;
    case '/readyz':
      if (only('GET, HEAD')) {
        const ready = await isReady(ctx);
        const replica = ctx.options.replicaName === null ? {} : { replica: ctx.options.replicaName };
        const worker = ctx.options.workerId === null ? {} : { worker: ctx.options.workerId };
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', ...replica, ...worker });
      }
      return;
    default:
      if (url.pathname === '/ui' || url.pathname.startsWith('/ui/')) return serveUi(ctx, req, res, url);
      sendJson(res, 404, { error: `Not Found: ${url.pathname.slice(0, 200)}; MCP is served at /mcp (Streamable HTTP) and /sse (legacy SSE), the memory browser at /ui/` });
  }
}

/** The probes, served to any Host (matched on the request target exactly, query aside). */
const PROBES = new Set(['/healthz', '/readyz']);

/** Ready: not shutting down, and the database answers a trivial query. */
async function isReady(ctx: HttpContext): Promise<boolean> {
  if (ctx.closing() || ctx.draining()) return false;
  try {
    await ctx.runtime.store.getGoal('readiness-probe');
    return true;
  } catch {
    return false;
  }
}
