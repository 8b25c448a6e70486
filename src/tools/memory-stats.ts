import { z } from 'zod';
import { described } from '../domain/fields.js';
import { memoryStats } from '../memory/records.js';
import { defineTool } from './define-tool.js';

const Counts = z.record(z.string(), z.number().int());

export const memoryStatsTool = defineTool({
  name: 'memory_stats',
  title: 'Memory statistics',
  description: `Counts of what is stored, the database size and the embedding model's progress: for an overview or a health check. Returns no memory text.`,
  input: z.strictObject({}),
  output: z.object({
    memories_total: z.number().int(),
    by_layer: described(Counts, 'Memories per layer.', { semantic: 12, episodic: 40 }),
    by_kind: described(Counts, 'Memories per kind (top 50).', { fact: 10, turn: 40 }),
    by_namespace: described(Counts, 'Memories per namespace (top 50).', { default: 52 }),
    superseded: z.number().int(),
    held_for_review: described(z.number().int(), 'Memories held for review (text that reads as instructions to a model, from the web, a tool or an import): searchable once an admin approves them.', 0),
    goals_by_status: described(Counts, 'Goals per status.', { active: 2, achieved: 5 }),
    outcomes: z.number().int(),
    audit_rows: z.number().int(),
    database_bytes: described(z.number().int(), 'Size of the database files on disk.', 1048576),
    schema_version: z.number().int(),
    default_namespace: z.string(),
    embedding: described(
      z.object({
        model_id: z.string().nullable(),
        model_key: z.string().nullable(),
        dimension: z.number().int().nullable(),
        note: z.string().nullable(),
        records: z.number().int(),
        embedded: z.number().int(),
        vectors_indexed: z.number().int(),
        index_backlog: z.number().int(),
        index_start: z.enum(['snapshot', 'rebuild', 'loading', 'failed']).nullable(),
      }),
      'The active embedding model; how many searchable records (memories, goals, steps) have a vector of it (fewer while re-embedding after a model change); the vector index size, changes not yet in its graph, and whether it started from its snapshot or rebuilt (loading: still being read after a start, searches answer from keywords meanwhile; failed: could not be opened, see the logs).',
      { model_id: 'pinak/static-glove-50k', model_key: 'pinak/static-glove-50k@100#4364935e2bd61d67', dimension: 100, note: null, records: 120, embedded: 120, vectors_indexed: 118, index_backlog: 0, index_start: 'snapshot' },
    ),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handle: (_args, deps) => memoryStats(deps.memory),
  summarize: (r) =>
    `${r.memories_total} memories (${Object.entries(r.by_layer).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}); ` +
    `goals: ${Object.entries(r.goals_by_status).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; ` +
    `${r.outcomes} outcomes; ${r.held_for_review > 0 ? `${r.held_for_review} held for review (pinak-memory review list); ` : ''}database ${(r.database_bytes / 1024).toFixed(0)} KiB, schema v${r.schema_version}; ` +
    (r.embedding.model_id
      ? `embeddings: ${r.embedding.model_id} (${r.embedding.embedded}/${r.embedding.records} records embedded, ${r.embedding.vectors_indexed} indexed)`
      : `embeddings: none${r.embedding.note ? ` (${r.embedding.note})` : ''}`) +
    (r.embedding.model_id && r.embedding.note ? `; ${r.embedding.note}` : ''),
  audit: () => ({}),
});
