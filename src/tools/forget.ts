import { z } from 'zod';
import { described, Id, IdempotencyKey, stringList } from '../domain/fields.js';
import { forget, forgetAnswer } from '../memory/records.js';
import { defineTool } from './define-tool.js';

export const forgetTool = defineTool({
  name: 'forget',
  title: 'Forget memories',
  description: `Delete memories for good, by id. Only when the user asks, or a memory is wrong and harmful: to correct one, prefer remember with supersedes; abandon goals with remember_goal.
Returns the ids deleted and those not there (forgetting twice is no error).`,
  input: z.strictObject({
    ids: described(stringList(Id, { min: 1, max: 100 }), 'Memory ids.', ['01JD3Z6Q6H8W1V8N2X4C5B7E9F']),
    reason: described(z.string().max(500).optional(), 'Why, for the log.', 'user asked to forget their address'),
    idempotency_key: IdempotencyKey,
  }),
  output: z.object({
    forgotten: z.array(z.string()),
    missing: described(z.array(z.string()), 'Ids not there: never stored, or already forgotten.', []),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handle: (args, deps, caller) => forget(deps.memory, caller, args.ids),
  recover: async (made, args) => forgetAnswer(args.ids, made as string[]),
  summarize: (r) =>
    `forgot ${r.forgotten.length} memor${r.forgotten.length === 1 ? 'y' : 'ies'}${r.missing.length ? `; not there (never stored, or already forgotten): ${r.missing.join(', ')}` : ''}`,
  audit: (_args, r) => ({ touched: r?.forgotten ?? [] }),
});
