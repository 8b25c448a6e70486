import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthRefusal } from '../../auth/authenticator.js';
import type { Principal } from '../../domain/principal.js';
import type { HttpContext } from './context.js';
import { RPC, sendJson, sendRpcError } from './responses.js';

const REALM = 'Bearer realm="pinak-memory"';

/**
 * Who sends this request to /mcp, /sse or /messages, or null once it has
 * been refused: 401 without a valid key (WWW-Authenticate: Bearer), 429 over
 * the key's rate limit (Retry-After). Every refusal is audited; the key
 * itself never reaches a log, an audit row or an answer.
 */
export async function admit(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<Principal | null> {
  const remote = req.socket.remoteAddress ?? null;
  const result = await ctx.auth.authenticate(req.headers.authorization, remote);
  if (!result.ok) {
    await auditRefusal(ctx, req, path, remote, result, 'invalid');
    ctx.runtime.logger.warn({ code: result.code, keyId: result.keyId, tenant: result.tenant, remote, path }, 'HTTP request refused: not authenticated');
    const challenge = result.code === 'no_key' ? REALM : `${REALM}, error="invalid_token"`;
    sendRpcError(res, 401, RPC.serverError, result.message, { 'www-authenticate': challenge });
    return null;
  }
  const { principal } = result;
  if (principal.id === 'local') return principal;
  const taken = ctx.limiter.take(principal.id);
  if (taken.ok) return principal;
  const seconds = taken.retryAfterSeconds;
  await auditRefusal(ctx, req, path, remote, { code: 'rate_limited', keyId: principal.id, tenant: principal.tenant }, 'error');
  ctx.runtime.logger.warn({ keyId: principal.id, tenant: principal.tenant, remote, path, retryAfter: seconds }, 'HTTP request refused: over the rate limit');
  const message = `Too Many Requests: this key may send ${ctx.limiter.perMinute} requests a minute (bursts of ${ctx.limiter.burst}); retry in ${seconds} second${seconds === 1 ? '' : 's'}`;
  sendJson(res, 429, { jsonrpc: '2.0', id: null, error: { code: RPC.serverError, message, data: { retry_after_seconds: seconds } } }, { 'retry-after': String(seconds) });
  return null;
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
  await ctx.runtime.audit.record({
    at: new Date().toISOString(),
    tool: `http ${request}`,
    namespace: null,
    client_name: null,
    client_version: null,
    session_id: typeof session === 'string' ? session.slice(0, 100) : null,
    args_sha256: createHash('sha256').update(request).digest('hex'),
    args_bytes: 0,
    status,
    error_code: refusal.code,
    duration_ms: 0,
    ids_touched: [],
    ids_returned: [],
    principal_id: refusal.keyId,
    tenant: refusal.tenant,
    remote_address: remote,
  });
}
