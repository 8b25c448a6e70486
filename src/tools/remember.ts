import { z } from 'zod';
import { MemoryError } from '../domain/errors.js';
import { described, expectedList, IdempotencyKey } from '../domain/fields.js';
import { Layer, MemoryInput } from '../domain/memory.js';
import { MAX_BATCH, remember, type RememberedNote } from '../memory/remember.js';
import { Redacted, redactedField, redactionNote } from './redacted-fields.js';
import { defineTool } from './define-tool.js';

const Input = z.strictObject({
  ...MemoryInput.shape,
  content: MemoryInput.shape.content.optional(),
  memories: described(
    z.array(MemoryInput, expectedList('memories: objects with content and the other fields of one memory')).min(1).max(MAX_BATCH).optional(),
    'Instead of the fields above: up to 100 memories with the same fields, stored all or none.',
    [{ content: 'Alice: I adopted a puppy named Max.', layer: 'episodic', kind: 'turn', occurred_at: '2025-05-08T13:56:00Z' }],
  ),
  on_duplicate: described(
    z.enum(['keep', 'skip', 'supersede']).optional(),
    'Find stored memories that say the same (ids in similar): store anyway, skip, or supersede them.',
    'skip',
  ),
  idempotency_key: IdempotencyKey,
});

const Stored = z.object({
  id: z.string(),
  layer: Layer,
  kind: z.string(),
  namespace: z.string(),
  occurred_at: z.string(),
  supersedes: z.string().nullable(),
  similar: described(z.array(z.string()).optional(), 'With on_duplicate: stored memories that say the same, most alike first.', []),
});

const Flagged = z.array(z.object({ index: z.number().int(), id: z.string(), signals: z.array(z.string()) })).optional();

/** The answer from what remember did (or what its idempotency claim noted): skipped only when asked to skip, redacted, held and flagged only when something was. */
const answer = ({ stored, skipped, redacted, held, flagged }: RememberedNote, onDuplicate: string | undefined) => ({
  stored,
  count: stored.length,
  ...(onDuplicate === 'skip' ? { skipped } : {}),
  ...redactedField(redacted ?? []),
  ...(held?.length ? { held } : {}),
  ...(flagged?.length ? { flagged } : {}),
});

/** Lines for the text answer about held and flagged memories, or nothing. */
function injectionNote(held: ReadonlyArray<{ id: string; signals: string[] }> | undefined, flagged: ReadonlyArray<{ id: string; signals: string[] }> | undefined): string {
  const line = (items: ReadonlyArray<{ id: string; signals: string[] }>) => items.map((m) => `${m.id} (${m.signals.join(', ')})`).join(', ');
  return (
    (held?.length ? `\nheld for review, not searchable until an admin approves: ${line(held)}` : '') +
    (flagged?.length ? `\nflagged as instructions aimed at a model: ${line(flagged)}` : '')
  );
}

export const rememberTool = defineTool({
  name: 'remember',
  title: 'Remember',
  description: `Store what is worth recalling later: facts, preferences, events, conversation turns, lessons. Send one memory's fields, or up to 100 in memories. To correct a memory, pass its id in supersedes.
For goals and results of work, call remember_goal and record_outcome. Secrets are stored as [redacted: kind] marks; web or tool text giving a model orders is held for review. Returns the new ids.`,
  input: Input,
  output: z.object({
    stored: described(z.array(Stored), 'The stored memories, in the order sent.', []),
    count: z.number().int(),
    skipped: described(
      z.array(z.object({ index: z.number().int(), similar: z.array(z.string()) })).optional(),
      'With on_duplicate "skip": the memories not stored (their place in the call, from 0), with the stored ones that say the same.',
      [],
    ),
    redacted: Redacted,
    held: described(Flagged, 'Memories that read as instructions aimed at a model, from web, tool or import text: stored but held for review, not searchable until an admin approves; absent when none.', [
      { index: 0, id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', signals: ['override-instructions'] },
    ]),
    flagged: described(Flagged, 'Memories stored and searchable, but flagged as reading like instructions aimed at a model; absent when none.', []),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handle(args, deps, caller) {
    const { memories, idempotency_key: _key, on_duplicate: onDuplicate, ...single } = args;
    if (memories && single.content !== undefined) {
      throw new MemoryError('invalid_input', 'send either content (one memory) or memories (a batch), not both');
    }
    if (!memories && single.content === undefined) {
      throw new MemoryError('invalid_input', 'content is required (or send memories with a batch of 1 to 100)');
    }
    const inputs = memories ?? [{ ...single, content: single.content ?? '' }];
    return answer(await remember(deps.memory, caller, inputs, onDuplicate), onDuplicate);
  },
  recover: async (made, args) => answer(made as RememberedNote, args.on_duplicate),
  summarize: (r) =>
    `stored ${r.count} memor${r.count === 1 ? 'y' : 'ies'}${r.count ? ': ' : ''}${r.stored.map((m) => `${m.id}${m.similar?.length ? ` (${m.supersedes && m.similar.includes(m.supersedes) ? 'supersedes' : 'similar to'} ${m.similar.join(', ')})` : ''}`).join(', ')}` +
    `${r.skipped?.length ? `; skipped ${r.skipped.length} already stored: ${r.skipped.map((s) => `memories[${s.index}] as ${s.similar.join(', ')}`).join('; ')}` : ''}` +
    redactionNote(r.redacted) +
    injectionNote(r.held, r.flagged),
  audit: (args, r, deps) => ({
    namespace: r?.stored[0]?.namespace ?? args.memories?.[0]?.namespace ?? args.namespace ?? deps.memory.defaultNamespace,
    touched: r?.stored.map((m) => m.id) ?? [],
    returned: r ? [...new Set([...r.stored.flatMap((m) => m.similar ?? []), ...(r.skipped ?? []).flatMap((s) => s.similar)])] : [],
  }),
});
