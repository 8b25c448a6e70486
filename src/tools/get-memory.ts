import { z } from 'zod';
import { MemoryError } from '../domain/errors.js';
import { described, Id, stringList } from '../domain/fields.js';
import { Memory } from '../domain/memory.js';
import { getMemories } from '../memory/records.js';
import { defineTool } from './define-tool.js';

const MAX_IDS = 10;

/** What a memory's text line says of its injection verdict: held for review, or flagged. */
const injectionMark = (m: Memory): string => (m.held ? ` [held for review: ${m.injection?.join(', ') ?? ''}]` : m.injection?.length ? ` [flagged: ${m.injection.join(', ')}]` : '');

export const getMemoryTool = defineTool({
  name: 'get_memory',
  title: 'Get memories by id',
  description: `Fetch whole memories by id (from search_memory or remember): id for one, ids for up to ${MAX_IDS}. Unknown ids come back in missing. For goals and steps call get_goal.`,
  input: z.strictObject({
    id: described(Id.optional(), 'One memory id.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
    ids: described(stringList(Id, { min: 1, max: MAX_IDS }).optional(), 'Several memory ids.', ['01JD3Z6Q6H8W1V8N2X4C5B7E9F']),
  }),
  output: z.object({
    memories: z.array(Memory),
    missing: described(z.array(z.string()), 'Requested ids that do not exist (or were forgotten).', []),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handle: async (args, deps, caller) => {
    const ids = [...(args.id === undefined ? [] : [args.id]), ...(args.ids ?? [])];
    if (ids.length === 0) throw new MemoryError('invalid_input', 'send id (one memory) or ids (up to 10)');
    if (ids.length > MAX_IDS) throw new MemoryError('too_large', `at most ${MAX_IDS} ids per call`);
    return getMemories(deps.memory, ids, caller);
  },
  summarize: (r) =>
    r.memories.map((m) => `${m.id} [${m.layer}/${m.kind}] ${m.occurred_at.slice(0, 10)}${m.origin === null ? '' : ` (from ${m.origin})`}${injectionMark(m)}: ${m.content}`).join('\n') +
    (r.missing.length ? `\nmissing: ${r.missing.join(', ')}` : ''),
  audit: (_args, r) => ({ returned: r?.memories.map((m) => m.id) ?? [] }),
});
