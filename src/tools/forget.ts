import { z } from 'zod';
import { described, Id, IdempotencyKey, stringList } from '../domain/fields.js';
import { forget } from '../memory/records.js';
import { defineTool } from './define-tool.js';

export const forgetTool = defineTool({
  name: 'forget',
  title: 'Forget memories',
  description: `Delete memories for good, by id: they disappear from search and get_memory at once; the deletion is recorded in the audit trail.
Call it only when the user asks to forget something or a memory is wrong and harmful. To correct a memory, prefer remember with "supersedes" (keeps history). Goals are not deleted: set their status to abandoned with remember_goal.
Returns the ids deleted and the ids not there (never stored, or already forgotten: forgetting twice is not an error).`,
  input: z.strictObject({
    ids: described(stringList(Id, { min: 1, max: 100 }), 'Ids of the memories to delete (1–100).', ['01JD3Z6Q6H8W1V8N2X4C5B7E9F']),
    reason: described(z.string().max(500).optional(), 'Why, for the log (not stored with any memory).', 'user asked to forget their address'),
    idempotency_key: IdempotencyKey,
  }),
  output: z.object({
    forgotten: z.array(z.string()),
    missing: described(z.array(z.string()), 'Ids not there: never stored, or already forgotten.', []),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handle: (args, deps, caller) => forget(deps.memory, caller, args.ids),
  summarize: (r) =>
    `forgot ${r.forgotten.length} memor${r.forgotten.length === 1 ? 'y' : 'ies'}${r.missing.length ? `; not there (never stored, or already forgotten): ${r.missing.join(', ')}` : ''}`,
  audit: (_args, r) => ({ touched: r?.forgotten ?? [] }),
});
