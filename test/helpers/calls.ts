import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { expect } from 'vitest';
import { TOOLS } from '../../src/tools/index.js';
import { toolJsonSchemas } from '../../src/tools/json-schema.js';

type Structured = Record<string, any>;

const ajv = new AjvJsonSchemaValidator();
const outputValidators = new Map<string, JsonSchemaValidator<unknown>>();

/**
 * The tool's full output schema (schemas/), compiled as the SDK client does.
 * tools/list leaves outputSchema out, so the client no longer checks results:
 * every successful call in the tests does.
 */
function outputValidator(name: string): JsonSchemaValidator<unknown> | undefined {
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) return undefined;
  if (!outputValidators.has(name)) outputValidators.set(name, ajv.getValidator(toolJsonSchemas(tool).output as JsonSchemaType));
  return outputValidators.get(name);
}

/** Call a tool that must succeed; returns its structured content, checked against the tool's output schema. */
export async function callOk(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Structured> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  expect(result.structuredContent).toBeDefined();
  const check = outputValidator(name)?.(result.structuredContent);
  expect(check?.errorMessage, `${name}'s structuredContent does not match its output schema`).toBeUndefined();
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

/** The JSON-RPC error a request ends with (resources, prompts, completions); fails when it succeeds. */
export async function rpcError(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code: number }).code, message: (error as Error).message };
  }
  throw new Error('expected a JSON-RPC error');
}
