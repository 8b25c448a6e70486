import { z } from 'zod';
import type { AnyTool } from './define-tool.js';

type JsonSchema = Record<string, unknown>;

/**
 * zod drops the default and examples of any field that transforms its input,
 * since they describe the output. The only transforms in our inputs lift a
 * lone string into a one-item list (fields.ts `stringList`), which keeps the
 * type, so both still hold for what a caller sends: put them back.
 */
function keepDefaultsAndExamples(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: z.core.JSONSchema.BaseSchema }): void {
  const meta = z.globalRegistry.get(ctx.zodSchema as unknown as z.ZodType);
  if (meta?.examples !== undefined && ctx.jsonSchema.examples === undefined) ctx.jsonSchema.examples = meta.examples as unknown[];
  const def = ctx.zodSchema._zod.def;
  if (def.type === 'default' && ctx.jsonSchema.default === undefined) ctx.jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue)) as unknown;
}

function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any', override: keepDefaultsAndExamples }) as JsonSchema;
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
