import type { z } from 'zod';
import type { ResourceLink, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Caller, MemoryContext } from '../memory/context.js';

/** What a tool handler may use. Tools reach storage only through the use cases in memory/. */
export interface ToolDeps {
  readonly memory: MemoryContext;
}

/** What a tool reports to the audit trail besides the call itself. */
export interface AuditFacts {
  namespace?: string | null;
  touched?: string[];
  returned?: string[];
}

export interface ToolDefinition<Input extends z.ZodType = z.ZodType, Output extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly title: string;
  /** Written for the model: what it does, when to call it, when to call another tool, what comes back. */
  readonly description: string;
  readonly input: Input;
  readonly output: Output;
  readonly annotations: Required<Pick<ToolAnnotations, 'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint'>>;
  handle(args: z.output<Input>, deps: ToolDeps, caller: Caller): Promise<z.input<Output>>;
  /**
   * A write's answer rebuilt from what it made (IdempotencyClaim.made), for a
   * retry with its idempotency key after the first answer was lost.
   */
  recover?(made: unknown, args: z.output<Input>, deps: ToolDeps): Promise<z.input<Output>>;
  /** A compact text rendering of the result, for clients that show text only. */
  summarize(result: z.output<Output>): string;
  /** Resource links to the records of the result (after its text), so a client can open them with resources/read. */
  links?(result: z.output<Output>): ResourceLink[];
  /** A warning the client should see about this answer (a degraded search), sent as notifications/message; never memory text. */
  warning?(args: z.output<Input>, result: z.output<Output>, deps: ToolDeps): string | null;
  /** Ids and namespace for the audit row; never memory text. */
  audit(args: z.output<Input>, result: z.output<Output> | undefined, deps: ToolDeps): AuditFacts;
}

/** Identity helper that keeps a tool's input and output types tied together. */
export function defineTool<Input extends z.ZodType, Output extends z.ZodType>(
  tool: ToolDefinition<Input, Output>,
): ToolDefinition<Input, Output> {
  return tool;
}

export type AnyTool = ToolDefinition<z.ZodType, z.ZodType>;
