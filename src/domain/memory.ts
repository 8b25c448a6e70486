import { z } from 'zod';
import { described, Id, Metadata, Namespace, singleLine, Tags, Timestamp } from './fields.js';
import { ProvenanceFields, ProvenanceInput } from './provenance.js';

export const LAYERS = ['semantic', 'episodic', 'procedural'] as const;
export const Layer = z.enum(LAYERS);
export type Layer = z.infer<typeof Layer>;

/** Memory fields with their limits, shared by `remember` and the backup format. */
export const Kind = singleLine(z.string().trim().min(1).max(48));
export const Source = singleLine(z.string().max(128));
export const ThreadId = singleLine(z.string().trim().min(1).max(128));
export const Importance = z.number().min(0).max(1);

/** One memory as a caller hands it to `remember`. */
export const MemoryInput = z.strictObject({
  content: described(z.string().min(1), 'The text: one fact, event or lesson.', 'Alice prefers dark mode in every editor.'),
  layer: described(Layer.default('semantic'), 'semantic: facts, preferences; episodic: events, conversation turns (set occurred_at); procedural: how-tos, lessons.', 'semantic'),
  kind: described(Kind.default('note'), 'A short label: fact, preference, event, turn, lesson…', 'preference'),
  tags: described(Tags.default([]), 'Labels to filter by.', ['ui', 'alice']),
  metadata: described(Metadata.default({}), 'Extra JSON data. speaker (or author): who said it; search favours memories whose speaker a query names.', { speaker: 'Alice' }),
  importance: described(Importance.default(0.5), 'How much it matters.', 0.8),
  namespace: described(Namespace.optional(), 'Project or workspace; default: the server\'s.', 'project-x'),
  source: described(Source.optional(), 'Who stores it; default: the client\'s name.', 'claude-desktop'),
  occurred_at: described(Timestamp.optional(), 'When it happened (ISO 8601); default: now.', '2025-05-08T13:56:00Z'),
  goal_id: described(Id.optional(), 'The goal it belongs to.', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  supersedes: described(Id.optional(), 'Id of a memory this one corrects (hidden from search, kept).', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  thread_id: described(
    ThreadId.optional(),
    'The conversation or session it belongs to; search scores memories with their neighbours.',
    'chat-2025-05-08',
  ),
  position: described(
    z.number().finite().optional(),
    'Order in the thread; default: last.',
    12,
  ),
  ...ProvenanceInput,
});
export type MemoryInput = z.infer<typeof MemoryInput>;

/** A stored memory, as every tool returns it. */
export const Memory = z.object({
  id: described(z.string(), 'Sortable unique id (ULID).', '01JD3Z6Q6H8W1V8N2X4C5B7E9F'),
  layer: Layer,
  kind: z.string(),
  content: z.string(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  importance: z.number(),
  namespace: z.string(),
  source: z.string().nullable(),
  goal_id: z.string().nullable(),
  occurred_at: described(z.string(), 'When it happened (ISO 8601); defaults to when it was stored.', '2025-05-08T13:56:00.000Z'),
  created_at: z.string(),
  updated_at: z.string(),
  supersedes: z.string().nullable(),
  superseded_by: described(z.string().nullable(), 'Id of the memory that corrected this one, if any.', null),
  thread_id: z.string().nullable(),
  thread_position: described(z.number().nullable(), 'Position in its thread; null when it has no thread.', 12),
  ...ProvenanceFields,
  injection: described(
    z.array(z.string()).nullable(),
    'Signals of instructions aimed at a model found in it when stored ([]: none); null: not scanned.',
    [],
  ),
  held: described(z.boolean(), 'Held for review: invisible to search until an admin approves it.', false),
});
export type Memory = z.infer<typeof Memory>;

/** What a new memory must be given; the rest has a first-write default. */
export type NewMemoryFields = Pick<Memory, 'id' | 'layer' | 'kind' | 'content' | 'tags' | 'metadata' | 'importance' | 'namespace' | 'source' | 'origin' | 'origin_ref' | 'written_by'> &
  Partial<Pick<Memory, 'goal_id' | 'occurred_at' | 'supersedes' | 'thread_id' | 'thread_position' | 'injection' | 'held'>>;

/**
 * A memory stored for the first time at `now`: it happened then unless told
 * otherwise, is linked to no goal, corrects nothing, is corrected by nothing
 * yet, and stands outside any thread unless given one.
 */
export function freshMemory(fields: NewMemoryFields, now: string): Memory {
  return {
    goal_id: null,
    occurred_at: now,
    supersedes: null,
    thread_id: null,
    thread_position: null,
    injection: null,
    held: false,
    ...fields,
    created_at: now,
    updated_at: now,
    superseded_by: null,
  };
}
