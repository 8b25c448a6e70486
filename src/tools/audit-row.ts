import type { AuditRow } from '../audit/audit-trail.js';
import type { ArgumentsFingerprint } from '../audit/fingerprint.js';
import type { Principal } from '../domain/principal.js';
import type { AuditFacts } from './define-tool.js';
import type { ToolFailure } from './tool-errors.js';

/** What one answered request (a tool call, a resource read, a prompt) leaves in the audit trail. */
export interface AnsweredRequest {
  /** The tool's name, or the method (`resources/read`, …). */
  tool: string;
  principal: Principal;
  sessionId: string;
  client: { name: string | null; version: string | null };
  args: ArgumentsFingerprint;
  /** performance.now() when the request arrived. */
  started: number;
  failure: ToolFailure | undefined;
  facts: AuditFacts;
}

/** The audit row of an answered request: who, what, when, how it ended, how long it took, which ids. */
export function auditRowFor(request: AnsweredRequest): AuditRow {
  const { principal, failure, facts } = request;
  return {
    at: new Date().toISOString(),
    tool: request.tool,
    namespace: facts.namespace ?? null,
    client_name: request.client.name,
    client_version: request.client.version,
    session_id: request.sessionId,
    args_sha256: request.args.sha256,
    args_bytes: request.args.bytes,
    status: failure ? failure.status : 'ok',
    error_code: failure?.code ?? null,
    duration_ms: Math.round((performance.now() - request.started) * 1000) / 1000,
    ids_touched: facts.touched ?? [],
    ids_returned: facts.returned ?? [],
    principal_id: principal.id,
    tenant: principal.tenant,
    remote_address: principal.remoteAddress,
  };
}
