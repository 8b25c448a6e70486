import { DatabaseUnavailable, DuplicateRequest, MemoryError } from '../domain/errors.js';
import { LOCAL_PRINCIPAL } from '../domain/principal.js';
import { earlierCall, rememberOutcomeOfCall, storedKey, type CallArguments } from '../memory/idempotency.js';
import type { Caller } from '../memory/context.js';
import type { AnyTool, ToolDeps } from './define-tool.js';

/** Who makes a call, as running it needs to know. */
export interface RunCaller extends Omit<Caller, 'idempotency'> {
  /** The principal's id: its idempotency keys are its own, and the handler is told it (see Caller). */
  readonly principalId: string;
}

/**
 * Run a tool's handler, honouring an idempotency key: a key this principal
 * used before returns the first call's answer; a new one is claimed by the
 * write itself (in its transaction), and the answer is recorded for later
 * retries. Keys are scoped to the principal, so no other key of the tenant
 * sees, takes or replays them; the local principal's stay unscoped, as
 * they were stored before.
 */
export async function runTool(
  tool: AnyTool,
  input: unknown,
  args: CallArguments,
  deps: ToolDeps,
  caller: RunCaller,
): Promise<{ output: unknown; error?: undefined } | { output?: undefined; error: unknown }> {
  // The principal goes with the call: it is who wrote what the call stores, and whose recalls count for its goals.
  const handlerCaller: Omit<Caller, 'idempotency'> = caller;
  const key = (input as { idempotency_key?: unknown }).idempotency_key;
  if (typeof key !== 'string') {
    try {
      return { output: tool.output.parse(await tool.handle(input, deps, handlerCaller)) };
    } catch (error) {
      return { error };
    }
  }
  const scope = caller.principalId === LOCAL_PRINCIPAL.id ? null : caller.principalId;
  const replay = async () => {
    const earlier = await earlierCall(deps.memory, key, scope, tool.name, args);
    if (earlier.kind === 'output') return { output: earlier.output };
    if (earlier.kind === 'error') return { error: earlier.error };
    if (earlier.kind === 'made') return recovered(tool, earlier.made, input, deps, key, scope);
    return undefined;
  };
  const before = await replay();
  if (before) return before;
  try {
    const claim = { key: storedKey(key, scope), tool: tool.name, argsSha256: args.sha256 };
    const output = tool.output.parse(await tool.handle(input, deps, { ...handlerCaller, idempotency: claim }));
    // The write is committed: its answer stands even if it cannot be kept for retries (the
    // database went away just after the commit). Failing the call instead would send the
    // caller to retry a write that was made, and the retry could only say its answer was lost.
    await rememberOutcomeOfCall(deps.memory, key, scope, { output }).catch((error: unknown) =>
      deps.memory.logger.warn({ err: error, tool: tool.name }, 'a write was made but its answer could not be kept for retries with its idempotency key'),
    );
    return { output };
  } catch (error) {
    // The store names the key as stored; the caller knows only its own.
    if (error instanceof DuplicateRequest) return (await replay()) ?? { error: new DuplicateRequest(key) };
    // A lost database is no answer to keep: the write was not made (or its COMMIT went unanswered),
    // and a retry must make it or find it, not be told "retry" again for ever.
    if (error instanceof MemoryError && !(error instanceof DatabaseUnavailable)) await rememberOutcomeOfCall(deps.memory, key, scope, { error });
    return { error };
  }
}

/**
 * The answer of a write that committed but whose answer was not kept (the
 * database went away as it committed, or the server stopped): rebuilt from
 * what the write noted it made, and kept for the next retry.
 */
async function recovered(tool: AnyTool, made: unknown, input: unknown, deps: ToolDeps, key: string, scope: string | null): Promise<{ output: unknown } | { error: unknown }> {
  if (!tool.recover) return { error: new MemoryError('conflict', `a call with idempotency_key "${key}" was stored but its answer cannot be rebuilt; find its records with search_memory`) };
  try {
    const output = tool.output.parse(await tool.recover(made, input, deps));
    await rememberOutcomeOfCall(deps.memory, key, scope, { output }).catch(() => {});
    return { output };
  } catch (error) {
    return { error };
  }
}
