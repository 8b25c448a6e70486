import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { MemoryError } from '../domain/errors.js';
import { refusalFor } from './access.js';
import type { AnyTool } from './define-tool.js';
import { auditRowFor } from './audit-row.js';
import { auditFailure, callFor, type RegisterOptions } from './register-tools.js';
import { describeInvalidArguments, toToolFailure, type ToolFailure } from './tool-errors.js';

/** The JSON-RPC code MCP gives a resource that does not exist (or that the caller may not reach). */
export const RESOURCE_NOT_FOUND = -32002;

/**
 * A JSON-RPC error the client reads as it is: the SDK sends a thrown error's
 * `code` and `message` (McpError would prefix its message with "MCP error").
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Bad arguments of a request that is not a tool call: JSON-RPC -32602. */
export const invalidParams = (message: string): RpcError => new RpcError(ErrorCode.InvalidParams, message);

/** A request refused or failed for a reason the client may read; `failure` is what the audit row records. */
export class RequestFailed extends RpcError {
  constructor(
    readonly failure: ToolFailure,
    code: number,
  ) {
    super(code, failure.message);
  }
}

/** What a read reports for its audit row, like a tool's AuditFacts. */
interface Facts {
  namespace: string | null;
  returned: string[];
}

/** Runs tools for one request on the principal's behalf: its role, its namespaces, no row of their own. */
export type RunTool = (name: string, args: Record<string, unknown>) => Promise<unknown>;

export interface AuditedRequests {
  /**
   * Answer one request that is not a tool call (resources/read, prompts/get,
   * completion/complete …) the way tools/call answers a tool: refused while
   * shutting down, its reads made through the tools (so the principal's role
   * and namespaces apply, and records of other namespaces look missing), one
   * audit row whatever happens (the method as its tool, the arguments'
   * fingerprint, the outcome, the duration, the ids returned), and never
   * answered when that row cannot be stored.
   */
  run<T>(method: string, args: unknown, signal: AbortSignal, work: (run: RunTool) => Promise<T>): Promise<T>;
}

const CODE_BY_FAILURE: Record<string, number> = {
  not_found: RESOURCE_NOT_FOUND,
  invalid_input: ErrorCode.InvalidParams,
  too_large: ErrorCode.InvalidParams,
  forbidden: ErrorCode.InvalidRequest,
};

/** The JSON-RPC error for a failure: not found keeps MCP's resource code, bad arguments are invalid params. */
export const rpcErrorFor = (failure: ToolFailure): RequestFailed => new RequestFailed(failure, CODE_BY_FAILURE[failure.code] ?? ErrorCode.InternalError);

export function auditedRequests(tools: readonly AnyTool[], options: RegisterOptions, client: () => { name: string | null; version: string | null }): AuditedRequests {
  const { deps, audit, logger, sessionId, gate, principal } = options;
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  return {
    async run<T>(method: string, rawArgs: unknown, signal: AbortSignal, work: (run: RunTool) => Promise<T>): Promise<T> {
      const started = performance.now();
      const args = audit.fingerprint(rawArgs ?? {});
      const facts: Facts = { namespace: null, returned: [] };
      const { name: clientName, version: clientVersion } = client();
      if (!gate.enter()) throw new RpcError(ErrorCode.InternalError, 'the server is shutting down; retry when it is back');
      const runTool: RunTool = async (name, input) => {
        const tool = byName.get(name);
        if (!tool) throw new Error(`no tool ${name}`);
        const refusal = refusalFor(principal, name);
        if (refusal !== null) throw rpcErrorFor({ message: refusal, code: 'forbidden', status: 'error' });
        if (signal.aborted) throw rpcErrorFor({ message: 'the request was cancelled', code: 'cancelled', status: 'error' });
        const parsed = tool.input.safeParse(input);
        if (!parsed.success) throw rpcErrorFor(describeInvalidArguments(tool.name, parsed.error));
        const { input: ran, outcome } = await callFor(principal, tool, parsed.data, audit.fingerprint(parsed.data), audit, deps, { clientName, signal, reviewer: false });
        const found = tool.audit(ran, outcome.output, deps);
        facts.namespace ??= found.namespace ?? null;
        facts.returned.push(...(found.returned ?? []));
        if (outcome.output === undefined) {
          const failure = toToolFailure(outcome.error);
          if (failure.ref) logger.error({ err: outcome.error, method, tool: name, ref: failure.ref }, 'request failed unexpectedly');
          throw rpcErrorFor(failure);
        }
        return outcome.output;
      };
      let failure: ToolFailure | undefined;
      let answer: T | undefined;
      let thrown: unknown;
      try {
        answer = await work(runTool);
      } catch (error) {
        thrown = error;
        if (error instanceof RequestFailed) failure = error.failure;
        else if (error instanceof RpcError || error instanceof McpError) failure = { message: error.message, code: error.code === ErrorCode.InvalidParams ? 'invalid_input' : 'error', status: error.code === ErrorCode.InvalidParams ? 'invalid' : 'error' };
        else if (error instanceof MemoryError) failure = toToolFailure(error);
        else {
          failure = toToolFailure(error);
          if (failure.ref) logger.error({ err: error, method, ref: failure.ref }, 'request failed unexpectedly');
        }
      }
      const row = auditRowFor({
        tool: method,
        principal,
        sessionId,
        client: { name: clientName, version: clientVersion },
        args,
        started,
        failure,
        facts: { namespace: facts.namespace, returned: [...new Set(facts.returned)] },
      });
      try {
        // A read changes nothing: its row need not wait for the disk (see AuditRows).
        await audit.record(row, false);
      } catch (error) {
        // Fail closed: what the request found is not given out unrecorded.
        throw rpcErrorFor(auditFailure(error));
      } finally {
        gate.leave();
        options.observeRequest?.({ method, status: failure?.status ?? 'ok', durationMs: performance.now() - started });
      }
      logger.debug({ method, status: failure?.status ?? 'ok', ms: Math.round((performance.now() - started) * 10) / 10 }, 'request');
      if (failure) {
        if (thrown instanceof RpcError || thrown instanceof McpError) throw thrown;
        throw rpcErrorFor(failure);
      }
      return answer as T;
    },
  };
}
