import type { z } from 'zod';
import { MemoryError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';

export interface ToolFailure {
  /** What the model sees: a clear message, never SQL, stack or paths. */
  message: string;
  /** For the audit row. */
  code: string;
  status: 'invalid' | 'error';
  /** Set for unexpected errors: the reference that ties the answer to the log line. */
  ref?: string;
}

/** The longest message a model has to read for bad arguments. */
const MAX_MESSAGE_CHARS = 1500;

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/** One line per problem, "path: message", for arguments that failed their schema. */
export function describeInvalidArguments(tool: string, error: z.ZodError): ToolFailure {
  const pathOf = (issue: z.core.$ZodIssue): string => (issue.path.length ? issue.path.map(String).join('.') : '(arguments)');
  // zod still runs a list's length checks on a value of the wrong type ("expected string to have <=20 characters" for a string sent as a list): only the type matters there.
  const wrongType = new Set(error.issues.filter((issue) => issue.code === 'invalid_type').map(pathOf));
  const issues = error.issues.filter((issue) => issue.code === 'invalid_type' || !wrongType.has(pathOf(issue)));
  const lines = issues.slice(0, 10).map((issue) => `${clip(pathOf(issue), 80)}: ${clip(issue.message, 200)}`);
  if (issues.length > 10) lines.push(`…and ${issues.length - 10} more`);
  return {
    message: clip(`invalid arguments for ${tool}: ${lines.join('; ')}`, MAX_MESSAGE_CHARS),
    code: 'invalid_input',
    status: 'invalid',
  };
}

/** Map any thrown value to what the caller may see. */
export function toToolFailure(error: unknown): ToolFailure {
  if (error instanceof MemoryError) {
    return {
      message: error.message,
      code: error.code,
      status: error.code === 'invalid_input' || error.code === 'too_large' ? 'invalid' : 'error',
    };
  }
  const sqliteCode = (error as { code?: unknown } | null)?.code;
  if (typeof sqliteCode === 'string' && (sqliteCode.startsWith('SQLITE_BUSY') || sqliteCode.startsWith('SQLITE_LOCKED'))) {
    return { message: 'the database is busy with another process; retry in a moment', code: 'busy', status: 'error' };
  }
  if (typeof sqliteCode === 'string' && sqliteCode.startsWith('SQLITE_FULL')) {
    return { message: 'the memory database is full (its disk, or its configured size limit); nothing was stored. Forget old memories or raise the limit', code: 'disk_full', status: 'error' };
  }
  const ref = newId().slice(-10);
  return { message: `internal error (ref ${ref}); nothing more is shown here, the server log has the details`, code: 'internal', status: 'error', ref };
}

/**
 * A call to a tool that does not exist: per the MCP spec an error in finding
 * the tool is a JSON-RPC error (-32602 Invalid params), not a tool result. The
 * SDK sends `code`, `message` and `data` of a thrown error as they are.
 */
export class UnknownToolError extends Error {
  override readonly name = 'UnknownToolError';
  readonly code = -32602;
  readonly data: { tools: string[] };

  constructor(tool: string, available: readonly string[]) {
    super(`Unknown tool: ${tool}`);
    this.data = { tools: [...available] };
  }
}
