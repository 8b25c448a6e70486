import { createHash } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ListToolsRequestSchema, type CallToolRequest, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { fingerprint, type AuditTrail } from '../audit/audit-trail.js';
import type { Principal } from '../domain/principal.js';
import type { Logger } from '../logging.js';
import { mayCall, refusalFor } from './access.js';
import type { CallGate } from './call-gate.js';
import type { AnyTool, AuditFacts, ToolDeps } from './define-tool.js';
import { toolJsonSchemas } from './json-schema.js';
import { runTool } from './run-tool.js';
import { describeInvalidArguments, toToolFailure, UnknownToolError, type ToolFailure } from './tool-errors.js';
import { MAX_ARGUMENT_DEPTH, nestedDeeperThan, unpairedSurrogateAt } from './argument-checks.js';
import { scopeToNamespaces } from './namespace-scope.js';

export interface RegisterOptions {
  deps: ToolDeps;
  audit: AuditTrail;
  logger: Logger;
  /** Identifies this connection in the audit trail. */
  sessionId: string;
  /** Tracks calls in flight for a clean shutdown. */
  gate: CallGate;
  /** Who calls: decides which tools are listed and callable, and which namespaces they reach. */
  principal: Principal;
  /** Told of every finished call (metrics); `tool` is null for a name that is not one of ours. */
  observe?: (call: { tool: string | null; status: 'ok' | 'invalid' | 'error'; code: string | null; durationMs: number }) => void;
}

function listed(tool: AnyTool): Tool {
  const schemas = toolJsonSchemas(tool);
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: schemas.input,
    outputSchema: schemas.output,
    annotations: { title: tool.title, ...tool.annotations },
  };
}

/**
 * Registration schema for `tools/call`. The SDK's server validates every
 * tools/call against the full CallToolRequestSchema before the handler runs and
 * answers a malformed one (arguments not an object, no name) with JSON-RPC
 * -32602 Invalid params. Registering with the strict schema instead would make
 * the generic request parse fail first, reported as -32603 Internal error.
 */
const ToolsCallMethod = z.looseObject({ method: z.literal('tools/call') });

/** Arguments too deep to hash safely are audited under one fixed fingerprint. */
const TOO_DEEP_FINGERPRINT = { sha256: createHash('sha256').update('(arguments nested too deeply)').digest('hex'), bytes: -1 };

const errorResult = (failure: ToolFailure): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text: failure.message }],
});

type Outcome = { output: unknown; error?: undefined } | { output?: undefined; error: unknown };

/** Run a tool for a principal, confined to its namespaces when it has a limit; returns the input it ran with. */
async function callFor(principal: Principal, tool: AnyTool, input: unknown, argsSha256: string, deps: ToolDeps, clientName: string | null): Promise<{ input: unknown; outcome: Outcome }> {
  if (principal.namespaces === null) return { input, outcome: await runTool(tool, input, argsSha256, deps, clientName) };
  let scoped;
  try {
    scoped = await scopeToNamespaces(tool.name, input, principal.namespaces, deps.memory);
  } catch (error) {
    return { input, outcome: { error } };
  }
  // A retry must match the confined call, so another namespace's answer is never replayed.
  const outcome = await runTool(tool, scoped.input, fingerprint(scoped.input).sha256, deps, clientName);
  if (outcome.output === undefined) return { input: scoped.input, outcome: { error: scoped.error(outcome.error) } };
  try {
    return { input: scoped.input, outcome: { output: scoped.output(outcome.output) } };
  } catch (error) {
    return { input: scoped.input, outcome: { error } };
  }
}

/**
 * Serve `tools/list` and `tools/call` for the given tools. This is the one
 * place that checks the caller's role and namespaces, validates arguments,
 * turns results into structured content plus text, turns every failure into
 * an `isError` result (a tool that does not exist into a JSON-RPC -32602
 * error, as the MCP spec asks), and audits and counts every call.
 */
export function registerTools(server: Server, tools: readonly AnyTool[], options: RegisterOptions): void {
  const { deps, audit, logger, sessionId, gate, principal, observe } = options;
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const callable = tools.filter((tool) => mayCall(principal, tool.name));
  const listing = callable.map(listed);

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listing }));

  server.setRequestHandler(ToolsCallMethod, async (raw): Promise<CallToolResult> => {
    const request = raw as unknown as CallToolRequest;
    const started = performance.now();
    const name = String(request.params.name).slice(0, 64);
    const rawArgs: unknown = request.params.arguments ?? {};
    const client = server.getClientVersion();
    let facts: AuditFacts = {};
    let failure: ToolFailure | undefined;
    let result: CallToolResult;
    // Only a write tool that ran may have changed the store; other calls' audit rows need not wait for the disk.
    let mayHaveWritten = false;

    const tool = byName.get(name);
    const refusal = tool ? refusalFor(principal, tool.name) : null;
    // Checked before anything walks the arguments recursively (hashing, validation), which deep nesting would overflow.
    const tooDeep = nestedDeeperThan(rawArgs, MAX_ARGUMENT_DEPTH);
    const args = tooDeep ? TOO_DEEP_FINGERPRINT : fingerprint(rawArgs);
    if (!gate.enter()) {
      observe?.({ tool: tool?.name ?? null, status: 'error', code: 'shutting_down', durationMs: performance.now() - started });
      return errorResult({ message: 'the server is shutting down; retry the call when it is back', code: 'shutting_down', status: 'error' });
    }
    try {
      if (!tool) {
        // Audited and counted like any call, then answered with a JSON-RPC error (below).
        failure = { message: `Unknown tool: ${name}`, code: 'unknown_tool', status: 'invalid' };
        result = errorResult(failure);
      } else if (refusal !== null) {
        failure = { message: refusal, code: 'forbidden', status: 'error' };
        result = errorResult(failure);
      } else if (tooDeep) {
        failure = { message: `invalid arguments for ${tool.name}: nested deeper than ${MAX_ARGUMENT_DEPTH} levels; flatten them`, code: 'invalid_input', status: 'invalid' };
        result = errorResult(failure);
      } else {
        const parsed = tool.input.safeParse(rawArgs);
        const malformed = parsed.success && !tool.annotations.readOnlyHint ? unpairedSurrogateAt(parsed.data) : null;
        if (!parsed.success) {
          failure = describeInvalidArguments(tool.name, parsed.error);
          result = errorResult(failure);
        } else if (malformed !== null) {
          // Such text cannot be stored as UTF-8 without silently changing it.
          failure = { message: `invalid arguments for ${tool.name}: ${malformed} contains an unpaired UTF-16 surrogate; send valid Unicode text`, code: 'invalid_input', status: 'invalid' };
          result = errorResult(failure);
        } else {
          mayHaveWritten = !tool.annotations.readOnlyHint;
          const { input, outcome } = await callFor(principal, tool, parsed.data, args.sha256, deps, client?.name ?? null);
          facts = tool.audit(input, outcome.output, deps);
          if (outcome.output !== undefined) {
            result = { content: [{ type: 'text', text: tool.summarize(outcome.output) }], structuredContent: outcome.output as Record<string, unknown> };
          } else {
            failure = toToolFailure(outcome.error);
            if (failure.ref) logger.error({ err: outcome.error, tool: tool.name, ref: failure.ref }, 'tool call failed unexpectedly');
            result = errorResult(failure);
          }
        }
      }
    } catch (error) {
      // A bug in summarize or audit: still answer, and say so in the log.
      failure = toToolFailure(error);
      logger.error({ err: error, tool: name, ref: failure.ref }, 'tool wrapper failed');
      result = errorResult(failure);
    }

    const durationMs = performance.now() - started;
    try {
      await audit.record({
        at: new Date().toISOString(),
        tool: name,
        namespace: facts.namespace ?? null,
        client_name: client?.name ?? null,
        client_version: client?.version ?? null,
        session_id: sessionId,
        args_sha256: args.sha256,
        args_bytes: args.bytes,
        status: failure ? failure.status : 'ok',
        error_code: failure?.code ?? null,
        duration_ms: Math.round(durationMs * 1000) / 1000,
        ids_touched: facts.touched ?? [],
        ids_returned: facts.returned ?? [],
        principal_id: principal.id,
        tenant: principal.tenant,
        remote_address: principal.remoteAddress,
      }, mayHaveWritten);
    } finally {
      gate.leave();
    }
    observe?.({ tool: tool?.name ?? null, status: failure?.status ?? 'ok', code: failure?.code ?? null, durationMs });
    logger.debug({ tool: name, status: failure?.status ?? 'ok', ms: Math.round(durationMs * 10) / 10 }, 'tool call');
    if (!tool) throw new UnknownToolError(name, callable.map((t) => t.name));
    return result;
  });
}
