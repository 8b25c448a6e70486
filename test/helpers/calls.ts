import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';

type Structured = Record<string, any>;

/** Call a tool that must succeed; returns its structured content. */
export async function callOk(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Structured> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  expect(result.structuredContent).toBeDefined();
  const content = result.content as Array<{ type: string; text?: string }>;
  expect(content[0]?.type).toBe('text');
  return result.structuredContent as Structured;
}

/** Call a tool that must fail with a tool error; returns the error text. */
export async function callError(client: Client, name: string, args: unknown): Promise<string> {
  const result = await client.callTool({ name, arguments: args as Record<string, unknown> });
  expect(result.isError, `${name} should have failed`).toBe(true);
  const content = result.content as Array<{ type: string; text: string }>;
  const text = content.map((c) => c.text).join('\n');
  // Nothing internal leaks into what the model sees.
  expect(text).not.toMatch(/SQLITE|sqlite3|\bat .*\(.*:\d+:\d+\)|node_modules|\/tmp\//i);
  return text;
}
