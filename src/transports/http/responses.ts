import type { ServerResponse } from 'node:http';

/** JSON-RPC error codes used by the HTTP layer (server-defined range, as the SDK uses them). */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  serverError: -32000,
  sessionNotFound: -32001,
} as const;

/** Answer with a small JSON body, unless an answer has already started. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Answer with a JSON-RPC error body (id null: the HTTP layer refuses before reading any request id). */
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { jsonrpc: '2.0', id: null, error: { code, message } }, headers);
}

/** 503: shutting down, or no more sessions may open. */
export function sendUnavailable(res: ServerResponse, closing: boolean, maxSessions: number): void {
  if (closing) return sendRpcError(res, 503, RPC.serverError, 'Service Unavailable: the server is shutting down');
  sendRpcError(res, 503, RPC.serverError, `Service Unavailable: the server has reached its limit of ${maxSessions} sessions (see --max-sessions); end an unused session or try again later`, {
    'retry-after': '5',
  });
}

/** 429: this key already holds as many sessions as one key may. */
export function sendKeySessionLimit(res: ServerResponse, maxPerKey: number): void {
  sendRpcError(res, 429, RPC.serverError, `Too Many Requests: this key already has ${maxPerKey} open sessions (see --max-sessions-per-key); end one (DELETE /mcp) or let it expire`, {
    'retry-after': '5',
  });
}

/** 429: the keys of this tenant already hold as many sessions as one tenant may; other tenants still get theirs. */
export function sendTenantSessionLimit(res: ServerResponse, maxPerTenant: number): void {
  sendRpcError(res, 429, RPC.serverError, `Too Many Requests: this tenant's keys already hold ${maxPerTenant} open sessions (see --max-sessions-per-tenant); end one (DELETE /mcp) or let it expire`, {
    'retry-after': '5',
  });
}

/** The answer to a session refused by a limit (the deployment's, the key's or the tenant's). */
export function sendSessionLimit(res: ServerResponse, refusal: 'server' | 'key' | 'tenant', limits: { maxSessions: number; maxPerKey: number; maxPerTenant: number }): void {
  if (refusal === 'key') return sendKeySessionLimit(res, limits.maxPerKey);
  if (refusal === 'tenant') return sendTenantSessionLimit(res, limits.maxPerTenant);
  sendUnavailable(res, false, limits.maxSessions);
}
