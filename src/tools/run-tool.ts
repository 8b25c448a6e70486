import { DuplicateRequest, MemoryError } from '../domain/errors.js';
import { earlierCall, rememberOutcomeOfCall, type CallArguments } from '../memory/idempotency.js';
import type { Caller } from '../memory/context.js';
import type { AnyTool, ToolDeps } from './define-tool.js';

/**
 * Run a tool's handler, honouring an idempotency key: a key seen before
 * returns the first call's answer; a new one is claimed by the write itself
 * (in its transaction), and the answer is recorded for later retries.
 */
export async function runTool(
  tool: AnyTool,
  input: unknown,
  args: CallArguments,
  deps: ToolDeps,
  caller: Omit<Caller, 'idempotency'>,
): Promise<{ output: unknown; error?: undefined } | { output?: undefined; error: unknown }> {
  const key = (input as { idempotency_key?: unknown }).idempotency_key;
  if (typeof key !== 'string') {
    try {
      return { output: tool.output.parse(await tool.handle(input, deps, caller)) };
    } catch (error) {
      return { error };
    }
  }
  const replay = async () => {
    const earlier = await earlierCall(deps.memory, key, tool.name, args);
    if (earlier.kind === 'output') return { output: earlier.output };
    if (earlier.kind === 'error') return { error: earlier.error };
    return undefined;
  };
  const before = await replay();
  if (before) return before;
  try {
    const output = tool.output.parse(await tool.handle(input, deps, { ...caller, idempotency: { key, tool: tool.name, argsSha256: args.sha256 } }));
    await rememberOutcomeOfCall(deps.memory, key, { output });
    return { output };
  } catch (error) {
    if (error instanceof DuplicateRequest) return (await replay()) ?? { error };
    if (error instanceof MemoryError) await rememberOutcomeOfCall(deps.memory, key, { error });
    return { error };
  }
}
