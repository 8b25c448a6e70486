import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthRefusal } from '../../auth/authenticator.js';
import { isJSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../../domain/principal.js';
import { maxBatch } from './call-limit.js';
import type { HttpContext } from './context.js';
import { RPC, sendJson, sendRpcError } from './responses.js';

const REALM = 'Bearer realm="pinak-memory"';

/**
 * Who sends this request to /mcp, /sse or /messages, or null once it has
 * been refused: 401 without a valid key (WWW-Authenticate: Bearer), 429 over
 * the key's rate limit (Retry-After), and 429 for an address that has sent
 * too many requests without a valid credential (valid credentials from that
 * address still pass: a proxy's address is shared). Refusals are audited (up
 * to a cap per address and minute) and their warnings sampled; the key
 * itself never reaches a log, an audit row or an answer.
 */
export async function admit(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<Principal | null> {
  const remote = req.socket.remoteAddress ?? null;
  const result = await ctx.auth.authenticate(req.headers.authorization, remote);
  if (!result.ok) {
    const throttled = ctx.unauthenticated.take(remote ?? 'unknown');
    if (!throttled.ok) {
      ctx.runtime.metrics.refused('unauthenticated_throttled');
      ctx.runtime.warnings.warn('unauthenticated requests throttled', { remote, path }, 'HTTP request refused: too many requests without a valid credential from this address');
      const seconds = throttled.retryAfterSeconds;
      sendJson(res, 429, { jsonrpc: '2.0', id: null, error: { code: RPC.serverError, message: `Too Many Requests: too many requests without a valid API key or token from this address; retry in ${seconds} second${seconds === 1 ? '' : 's'}`, data: { retry_after_seconds: seconds } } }, { 'retry-after': String(seconds) });
      return null;
    }
    await auditRefusal(ctx, req, path, remote, result, 'invalid');
    ctx.runtime.warnings.warn('not authenticated', { code: result.code, keyId: result.keyId, tenant: result.tenant, remote, path }, 'HTTP request refused: not authenticated');
    const challenge = result.code === 'no_key' ? REALM : `${REALM}, error="invalid_token"`;
    sendRpcError(res, 401, RPC.serverError, result.message, { 'www-authenticate': challenge });
    return null;
  }
  const { principal } = result;
  if (principal.id === 'local') return principal;
  const taken = await ctx.limiter.take(principal.id);
  if (taken.ok) return principal;
  await refuseOverRate(ctx, req, res, path, principal, taken.retryAfterSeconds);
  return null;
}

/**
 * A batch of JSON-RPC requests is as many requests as it holds: the first
 * was paid for by `admit`, the others are charged here. False once refused
 * (429, as any request over the key's rate).
 */
export async function chargeBatch(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, principal: Principal, body: unknown): Promise<boolean> {
  // A batch too large to be admitted is refused by the session (400) without being charged or looked through.
  if (principal.id === 'local' || !Array.isArray(body) || body.length > maxBatch(ctx.options.maxCallsPerSession)) return true;
  const extra = body.filter(isJSONRPCRequest).length - 1;
  if (extra <= 0) return true;
  const taken = await ctx.limiter.take(principal.id, extra);
  if (taken.ok) return true;
  await refuseOverRate(ctx, req, res, new URL(req.url ?? '/', 'http://localhost').pathname, principal, taken.retryAfterSeconds);
  return false;
}

async function refuseOverRate(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, path: string, principal: Principal, seconds: number): Promise<void> {
  const remote = req.socket.remoteAddress ?? null;
  await auditRefusal(ctx, req, path, remote, { code: 'rate_limited', keyId: principal.id, tenant: principal.tenant }, 'error');
  ctx.runtime.warnings.warn('over the rate limit', { keyId: principal.id, tenant: principal.tenant, remote, path, retryAfter: seconds }, 'HTTP request refused: over the rate limit');
  const message = `Too Many Requests: this key may send ${ctx.limiter.perMinute} requests a minute (bursts of ${ctx.limiter.burst}; each request of a batch counts); retry in ${seconds} second${seconds === 1 ? '' : 's'}`;
  sendJson(res, 429, { jsonrpc: '2.0', id: null, error: { code: RPC.serverError, message, data: { retry_after_seconds: seconds } } }, { 'retry-after': String(seconds) });
}

/**
 * Count a refused request, and write one audit row in the server's own
 * (local) trail, tagged with the key and tenant when they are known.
 * Refusals from one address beyond a cap are only logged and counted, so a
 * flood of bad requests cannot fill the disk with rows.
 */
export async function auditRefusal(
  ctx: HttpContext,
  req: IncomingMessage,
  path: string,
  remote: string | null,
  refusal: Pick<AuthRefusal, 'keyId' | 'tenant'> & { code: string },
  status: 'invalid' | 'error',
): Promise<void> {
  ctx.runtime.metrics.refused(refusal.code);
  if (!ctx.refusalAudit.take(remote ?? 'unknown').ok) return;
  const request = `${req.method ?? ''} ${path}`;
  const session = req.headers['mcp-session-id'];
  // A refusal discloses nothing, so it is answered even when its row cannot be stored (that failure is logged);
  // its row may not use the audit reserve, which refused requests from anywhere could otherwise fill.
  await ctx.runtime.audit.record({
    at: new Date().toISOString(),
    tool: `http ${request}`,
    namespace: null,
    client_name: null,
    client_version: null,
    session_id: typeof session === 'string' ? session.slice(0, 100) : null,
    args_sha256: ctx.runtime.audit.fingerprint(request).sha256,
    args_bytes: 0,
    status,
    error_code: refusal.code,
    duration_ms: 0,
    ids_touched: [],
    ids_returned: [],
    principal_id: refusal.keyId,
    tenant: refusal.tenant,
    remote_address: remote,
  }, false, false).catch(() => undefined);
}
