import { createHash } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ListToolsRequestSchema, type CallToolRequest, type CallToolResult, type ServerNotification, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AuditUnavailable, type AuditRow, type AuditTrail, type OpenAuditRow } from '../audit/audit-trail.js';
import type { ArgumentsFingerprint } from '../audit/fingerprint.js';
import { clientLabel } from '../domain/client-label.js';
import { DatabaseUnavailable } from '../domain/errors.js';
import type { Caller } from '../memory/context.js';
import { roleIncludes, type Principal } from '../domain/principal.js';
import type { Logger } from '../logging.js';
import { mayCall, refusalFor } from './access.js';
import type { CallGate } from './call-gate.js';
import type { AnyTool, AuditFacts, ToolDeps } from './define-tool.js';
import { compactInputSchema } from './compact-schema.js';
import { toolJsonSchemas } from './json-schema.js';
import { auditRowFor } from './audit-row.js';
import { runTool } from './run-tool.js';
import { describeInvalidArguments, toToolFailure, UnknownToolError, type ToolFailure } from './tool-errors.js';
import { MAX_ARGUMENT_DEPTH, nestedDeeperThan, unpairedSurrogateAt } from './argument-checks.js';
import { scopeToNamespaces } from './namespace-scope.js';
import { reservedKeyProblem } from '../memory/limits.js';

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
  /** Told of every answered request that is not a tool call (resources, prompts, completions), for metrics. */
  observeRequest?: (request: { method: string; status: 'ok' | 'invalid' | 'error'; durationMs: number }) => void;
  /**
   * The signal that tells a call its client cancelled it, by JSON-RPC request
   * id, when the transport tracks cancellation itself (HTTP); otherwise the
   * SDK's own signal for the request is used.
   */
  signalFor?: (requestId: string | number) => AbortSignal | undefined;
  /**
   * What the client said of itself at initialize, when this server did not
   * see that request (a session resumed on another replica, see
   * shared-streamable.ts); the server's own record comes first.
   */
  clientInfo?: { name?: string | undefined; version?: string | undefined } | undefined;
  /** The client's logging level: a tool's warning (a degraded search) is sent to it as notifications/message when it wants them. */
  log?: { allows(level: 'warning'): boolean } | undefined;
}

/**
 * A tool as tools/list shows it: a compact input schema and no outputSchema
 * (optional in MCP), since a model pays for every byte of the listing in every
 * conversation; results still carry structuredContent, whose full schemas are
 * in schemas/.
 */
function listed(tool: AnyTool): Tool {
  let entry = LISTED.get(tool);
  if (!entry) {
    entry = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: compactInputSchema(toolJsonSchemas(tool).input) as Tool['inputSchema'],
      annotations: listedHints(tool),
    };
    LISTED.set(tool, entry);
  }
  return entry;
}

/** Each tool's entry, built once per process: converting and compacting its schema took about 5 ms a session. */
const LISTED = new WeakMap<AnyTool, Tool>();

/**
 * The title once, where MCP puts it since 2025-06-18 (annotations.title is its
 * older place); and for a read-only tool no destructive or idempotent hint,
 * which MCP says mean something only for tools that write.
 */
function listedHints(tool: AnyTool): Tool['annotations'] {
  const { readOnlyHint, destructiveHint, idempotentHint, openWorldHint } = tool.annotations;
  return readOnlyHint ? { readOnlyHint, openWorldHint } : { readOnlyHint, destructiveHint, idempotentHint, openWorldHint };
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
const TOO_DEEP_FINGERPRINT: ArgumentsFingerprint = { sha256: createHash('sha256').update('(arguments nested too deeply)').digest('hex'), bytes: -1, unkeyed: () => '' };

const errorResult = (failure: ToolFailure): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text: failure.message }],
});

type Outcome = { output: unknown; error?: undefined } | { output?: undefined; error: unknown };

/** Run a tool for a principal, confined to its namespaces when it has a limit; returns the input it ran with. */
export async function callFor(principal: Principal, tool: AnyTool, input: unknown, args: ArgumentsFingerprint, audit: AuditTrail, deps: ToolDeps, from: Omit<Caller, 'idempotency'>): Promise<{ input: unknown; outcome: Outcome }> {
  // An admin may read memories held for review by id; a request that reads otherwise (resources) says reviewer: false.
  const caller = { reviewer: roleIncludes(principal.role, 'admin'), ...from, principalId: principal.id };
  if (principal.namespaces === null) return { input, outcome: await runTool(tool, input, args, deps, caller) };
  let scoped;
  try {
    scoped = await scopeToNamespaces(tool.name, input, principal.namespaces, deps.memory);
  } catch (error) {
    return { input, outcome: { error } };
  }
  // A retry must match the confined call, so another namespace's answer is never replayed.
  // Confined: its searches are scored from the namespace searched alone.
  const outcome = await runTool(tool, scoped.input, audit.fingerprint(scoped.input), deps, { ...caller, confined: true });
  if (outcome.output === undefined) return { input: scoped.input, outcome: { error: scoped.error(outcome.error) } };
  try {
    return { input: scoped.input, outcome: { output: scoped.output(outcome.output) } };
  } catch (error) {
    return { input: scoped.input, outcome: { error } };
  }
}

const AUDIT_UNAVAILABLE: ToolFailure = {
  message: 'the audit trail cannot record this call (the memory database has reached its size limit, or its disk is full), so it was not answered; nothing was stored. Ask the operator to free space or raise --max-database-bytes',
  code: 'audit_unavailable',
  status: 'error',
};

/** Why a call's audit row could not be stored: a database gone away (retry), else one that is full. */
export const auditFailure = (error: unknown): ToolFailure =>
  (error as Error | null)?.cause instanceof DatabaseUnavailable ? toToolFailure((error as Error).cause) : AUDIT_UNAVAILABLE;

const CANCELLED: ToolFailure = { message: 'the call was cancelled before it ran; nothing was stored', code: 'cancelled', status: 'error' };

/** What an MCP client says about itself, bounded once per connection (see clientLabel). */
export function clientOf(server: Server, told?: RegisterOptions['clientInfo']): () => { name: string | null; version: string | null } {
  let known: { name: string | null; version: string | null } | undefined;
  return () => {
    if (known) return known;
    const info = server.getClientVersion() ?? told;
    const labels = { name: clientLabel(info?.name), version: clientLabel(info?.version) };
    // Known only after initialize; before that, ask again next time.
    if (info) known = labels;
    return labels;
  };
}

/**
 * How to tell the client of a call's progress, when its request carries a
 * progress token (`_meta.progressToken`); nothing otherwise. The reports are
 * notifications related to the request, so over HTTP they travel on its
 * response stream. A report that cannot be sent is dropped: the call goes on.
 */
export function progressOf(
  request: { params: { _meta?: { progressToken?: unknown } | undefined } },
  extra: { sendNotification: (notification: ServerNotification) => Promise<void> },
): { caller: Pick<Caller, 'progress'>; sent(): Promise<void> } {
  const token = request.params._meta?.progressToken;
  if (typeof token !== 'string' && typeof token !== 'number') return { caller: {}, sent: () => Promise.resolve() };
  // One after the other, and all out before the answer: a client forgets a token once the call is answered.
  let chain = Promise.resolve();
  return {
    caller: {
      progress: (progress, total, message) => {
        chain = chain.then(() => extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total, message } })).catch(() => {});
      },
    },
    sent: () => chain,
  };
}

/**
 * Serve `tools/list` and `tools/call` for the given tools. This is the one
 * place that checks the caller's role and namespaces, validates arguments,
 * turns results into structured content plus text, turns every failure into
 * an `isError` result (a tool that does not exist into a JSON-RPC -32602
 * error, as the MCP spec asks), and audits and counts every call. No call is
 * answered without its audit row: a write's row is opened before it runs,
 * and a call whose row cannot be stored is refused (fail closed).
 */
export function registerTools(server: Server, tools: readonly AnyTool[], options: RegisterOptions): void {
  const { deps, audit, logger, sessionId, gate, principal, observe } = options;
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const callable = tools.filter((tool) => mayCall(principal, tool.name));
  const listing = callable.map(listed);
  const client = clientOf(server, options.clientInfo);

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listing }));

  server.setRequestHandler(ToolsCallMethod, async (raw, extra): Promise<CallToolResult> => {
    const request = raw as unknown as CallToolRequest;
    const started = performance.now();
    const name = String(request.params.name).slice(0, 64);
    const rawArgs: unknown = request.params.arguments ?? {};
    const { name: clientName, version: clientVersion } = client();
    const signal = options.signalFor?.(extra.requestId) ?? extra.signal;
    let facts: AuditFacts = {};
    let failure: ToolFailure | undefined;
    let result: CallToolResult;
    let opened: OpenAuditRow | null = null;

    const tool = byName.get(name);
    const refusal = tool ? refusalFor(principal, tool.name) : null;
    // Checked before anything walks the arguments recursively (hashing, validation), which deep nesting would overflow.
    const tooDeep = nestedDeeperThan(rawArgs, MAX_ARGUMENT_DEPTH);
    const args = tooDeep ? TOO_DEEP_FINGERPRINT : audit.fingerprint(rawArgs);
    // On the raw arguments: validation silently drops a `__proto__` key, so the stored record would differ from the call.
    const reservedKey = tooDeep ? null : reservedKeyProblem(rawArgs);
    const row = (): AuditRow => auditRowFor({ tool: name, principal, sessionId, client: { name: clientName, version: clientVersion }, args, started, failure, facts });
    if (!gate.enter()) {
      observe?.({ tool: tool?.name ?? null, status: 'error', code: 'shutting_down', durationMs: performance.now() - started });
      return errorResult({ message: 'the server is shutting down; retry the call when it is back', code: 'shutting_down', status: 'error' });
    }
    try {
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
        } else if (reservedKey !== null) {
          failure = { message: `invalid arguments for ${tool.name}: ${reservedKey}`, code: 'invalid_input', status: 'invalid' };
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
          } else if (signal.aborted) {
            failure = CANCELLED;
            result = errorResult(failure);
          } else {
            if (!tool.annotations.readOnlyHint) {
              // Fail closed: a write that could not be audited is not made.
              opened = await audit.open(row());
            }
            const progress = progressOf(request, extra);
            const { input, outcome } = await callFor(principal, tool, parsed.data, args, audit, deps, { clientName, signal, ...progress.caller });
            await progress.sent();
            facts = tool.audit(input, outcome.output, deps);
            if (outcome.output !== undefined) {
              result = { content: [{ type: 'text', text: tool.summarize(outcome.output) }, ...(tool.links?.(outcome.output) ?? [])], structuredContent: outcome.output as Record<string, unknown> };
              const warning = tool.warning?.(input, outcome.output, deps);
              if (warning && options.log?.allows('warning')) {
                // On the call's own stream; a message that cannot be sent is dropped, the answer stands.
                await extra.sendNotification({ method: 'notifications/message', params: { level: 'warning', logger: 'pinak-memory', data: `${tool.name}: ${warning}` } }).catch(() => {});
              }
            } else {
              failure = toToolFailure(outcome.error);
              if (failure.ref) logger.error({ err: outcome.error, tool: tool.name, ref: failure.ref }, 'tool call failed unexpectedly');
              result = errorResult(failure);
            }
          }
        }
      } catch (error) {
        // The audit trail refused the row of a write before it ran; or a bug in summarize or audit: still answer, and say so in the log.
        failure = error instanceof AuditUnavailable ? auditFailure(error) : toToolFailure(error);
        if (failure.ref) logger.error({ err: error, tool: name, ref: failure.ref }, 'tool wrapper failed');
        result = errorResult(failure);
      }
      if (opened) await opened.complete(row());
      else if (!(failure?.code === AUDIT_UNAVAILABLE.code || failure?.code === 'unavailable')) {
        try {
          // Nothing was written: the row need not wait for the disk (see AuditRows).
          await audit.record(row(), false);
        } catch (error) {
          // Fail closed: what the call found is not given out unrecorded.
          failure = auditFailure(error);
          result = errorResult(failure);
        }
      }
    } finally {
      gate.leave();
    }
    const durationMs = performance.now() - started;
    observe?.({ tool: tool?.name ?? null, status: failure?.status ?? 'ok', code: failure?.code ?? null, durationMs });
    logger.debug({ tool: name, status: failure?.status ?? 'ok', ms: Math.round(durationMs * 10) / 10 }, 'tool call');
    if (!tool) throw new UnknownToolError(name, callable.map((t) => t.name));
    return result;
  });
}
