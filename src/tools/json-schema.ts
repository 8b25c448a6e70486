import { z } from 'zod';
import type { AnyTool } from './define-tool.js';

type JsonSchema = Record<string, unknown>;

function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** The JSON Schemas of a tool, as tools/list publishes them and schemas/ stores them. */
export function toolJsonSchemas(tool: AnyTool): { input: JsonSchema & { type: 'object' }; output: JsonSchema & { type: 'object' } } {
  return {
    input: convert(tool.input, 'input') as JsonSchema & { type: 'object' },
    output: convert(tool.output, 'output') as JsonSchema & { type: 'object' },
  };
}
