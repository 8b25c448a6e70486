import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOLS } from '../../src/tools/index.js';
import { toolJsonSchemas } from '../../src/tools/json-schema.js';
import { spawnRaw } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Every conversation pays for tools/list before its first call: the whole listing stays within 12.78 KB
// (it was 47,906 bytes; 12 KB until remember took on_duplicate, goals brought experience and reflection,
// and the write tools said where they redacted secrets; 12.3 KB until the three write tools took origin and
// origin_ref, and search_memory an origins filter: about 480 bytes, bare outside remember; search_memory's
// min_trust and the line on trust levels were paid for by listing tags_any, tags_all, time_field and
// include_superseded bare; 12.7 KB until remember said that web or tool text giving a model orders is held
// for review, 68 bytes: a model must know such a memory will not come back in a search until an admin approves it),
// flat (several clients resolve no $ref), and still accepts every documented example.

const MAX_LISTING_BYTES = 12_780;

interface Listed {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
}

const temp = makeTempDir('pinak-e2e-');
let line = '';
let tools: Listed[] = [];

beforeAll(async () => {
  const child = spawnRaw(['--data-dir', temp.dir]);
  const lines = createInterface({ input: child.stdout });
  const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'size-check', version: '1' } } });
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  for await (const received of lines) {
    if ((JSON.parse(received) as { id?: number }).id === 2) {
      line = received;
      break;
    }
  }
  child.stdin.end();
  await once(child, 'exit');
  tools = (JSON.parse(line) as { result: { tools: Listed[] } }).result.tools;
});
afterAll(() => temp.cleanup());

describe('tools/list as a client receives it over stdio', () => {
  it(`is at most ${MAX_LISTING_BYTES} bytes for all ${TOOLS.length} tools`, () => {
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LISTING_BYTES);
  });

  it('lists flat input schemas and no output schemas (those are in schemas/)', () => {
    for (const tool of tools) {
      expect(tool.outputSchema, tool.name).toBeUndefined();
      expect(JSON.stringify(tool.inputSchema), tool.name).not.toMatch(/"\$ref"|"\$defs"|"definitions"|"examples"/);
      expect(tool.description.length, tool.name).toBeGreaterThan(0);
      // The destructive and idempotent hints mean something only for a tool that writes.
      const hints = tool.annotations?.readOnlyHint ? ['openWorldHint', 'readOnlyHint'] : ['destructiveHint', 'idempotentHint', 'openWorldHint', 'readOnlyHint'];
      expect(Object.keys(tool.annotations ?? {}).sort(), tool.name).toEqual(hints);
    }
  });

  it('accepts, in each listed input schema, every example of the full schema', () => {
    const ajv = new AjvJsonSchemaValidator();
    for (const tool of TOOLS) {
      const listed = tools.find((t) => t.name === tool.name)!;
      const validate = ajv.getValidator(listed.inputSchema as JsonSchemaType);
      const fields = (toolJsonSchemas(tool).input.properties ?? {}) as Record<string, { examples?: unknown[] }>;
      const example = Object.fromEntries(Object.entries(fields).map(([field, spec]) => [field, spec.examples?.[0]]));
      expect(validate(example).errorMessage, tool.name).toBeUndefined();
    }
  });
});
