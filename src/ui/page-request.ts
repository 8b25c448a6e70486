import type { Memory } from '../domain/memory.js';
import type { Runtime } from '../runtime.js';
import type { Html } from './html.js';
import { isAdmin, type Frame } from './layout.js';
import { UI_CLIENT_NAME, type ToolCaller } from './tool-calls.js';

/** A refusal or failure the browser is told about, with its HTTP status. */
export class UiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface PageRequest {
  readonly runtime: Runtime;
  readonly tools: ToolCaller;
  readonly frame: Frame;
  /** The browser session's id in the audit trail. */
  readonly auditSession: string;
  readonly method: string;
  readonly path: string;
  readonly params: URLSearchParams;
  /** A POST's fields (already checked for origin and CSRF token). */
  readonly form: URLSearchParams | null;
}

export type PageAnswer = { kind: 'page'; status: number; page: Html } | { kind: 'redirect'; location: string };

export const ok = (page: Html, status = 200): PageAnswer => ({ kind: 'page', status, page });

/** Fixed notices a redirect may ask for by name: no text of the request is ever shown back. */
export const FLASH: Record<string, string> = {
  forgotten: 'The memory was forgotten (deleted for good); the audit trail records it under your sign-in.',
  superseded: 'The correction was stored; the old memory is kept, hidden from search.',
  approved: 'The memory was approved: it is searchable from now on. The audit trail records it under your sign-in.',
  rejected: 'The memory was rejected (deleted). The audit trail records it under your sign-in.',
};

/** A query parameter, trimmed and cut to `max` characters. */
export const param = (params: URLSearchParams, name: string, max = 200): string => (params.get(name) ?? '').trim().slice(0, max);

/** One memory through get_memory; a UiError 404 when it is not there (or not in this key's namespaces). */
export async function getMemory(req: PageRequest, id: string): Promise<Memory> {
  const answer = await req.tools.call<{ memories: Memory[] }>('get_memory', { id });
  if (!answer.ok || !answer.value.memories[0]) throw new UiError(404, answer.ok ? `no memory with id ${id}` : answer.message);
  return answer.value.memories[0];
}

/** An audit row of something the browser did, by the signed-in principal, like any tool call's. */
export async function recordUiCall(
  req: PageRequest,
  call: { tool: string; namespace: string | null; args: unknown; touched: string[]; returned: string[]; started: number | null; durable: boolean },
): Promise<void> {
  const { principal } = req.frame;
  const args = req.runtime.audit.fingerprint(call.args);
  await req.runtime.audit.record({
    at: new Date().toISOString(),
    tool: call.tool,
    namespace: call.namespace,
    client_name: UI_CLIENT_NAME,
    client_version: null,
    session_id: req.auditSession,
    args_sha256: args.sha256,
    args_bytes: args.bytes,
    status: 'ok',
    error_code: null,
    duration_ms: call.started === null ? 0 : Math.round((performance.now() - call.started) * 1000) / 1000,
    ids_touched: call.touched,
    ids_returned: call.returned,
    principal_id: principal.id,
    tenant: principal.tenant,
    remote_address: principal.remoteAddress,
  }, call.durable);
}

export function requireAdmin(req: PageRequest, what: string): void {
  if (!isAdmin(req.frame)) throw new UiError(403, `${what} needs the admin role (this key is a ${req.frame.principal.role})`);
}
