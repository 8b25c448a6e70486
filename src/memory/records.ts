import { MemoryError } from '../domain/errors.js';
import type { Memory } from '../domain/memory.js';
import type { StoreStats } from '../store/store.js';
import type { Caller, MemoryContext } from './context.js';

/** A few ids for a message, not hundreds: messages are read by a model. */
const someIds = (ids: readonly string[]): string => (ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`);

/** Fetch memories by id; unknown ids are reported, and an all-unknown request is an error. Held memories only for a reviewer (an admin). */
export async function getMemories(ctx: MemoryContext, ids: readonly string[], caller?: Pick<Caller, 'reviewer'>): Promise<{ memories: Memory[]; missing: string[] }> {
  const unique = [...new Set(ids)];
  // A memory held for review is missing to all but an admin reading it on purpose.
  const memories = (await ctx.store.getMemories(unique)).filter((m) => !m.held || caller?.reviewer === true);
  const found = new Set(memories.map((m) => m.id));
  const missing = unique.filter((id) => !found.has(id));
  if (memories.length === 0) {
    throw new MemoryError('not_found', `no memory with id ${someIds(missing)}; call search_memory to find memory ids`);
  }
  return { memories, missing };
}

/**
 * Delete memories for good; they leave search at once. Ids that are not there
 * (never stored, or forgotten before) are reported, not refused: forgetting
 * is idempotent, so a retry after a lost answer succeeds.
 */
export async function forget(ctx: MemoryContext, caller: Caller, ids: readonly string[]): Promise<{ forgotten: string[]; missing: string[] }> {
  const unique = [...new Set(ids)];
  return forgetAnswer(unique, await ctx.store.deleteMemories(unique, caller.idempotency));
}

/** What forget answers, from the ids asked for and those it removed (also the ids its idempotency claim notes). */
export function forgetAnswer(asked: readonly string[], forgotten: readonly string[]): { forgotten: string[]; missing: string[] } {
  const gone = new Set(forgotten);
  return { forgotten: [...forgotten], missing: [...new Set(asked)].filter((id) => !gone.has(id)) };
}

export interface EmbeddingStatus {
  model_id: string | null;
  model_key: string | null;
  dimension: number | null;
  /** Why the configured model is not the active one, or why there is none. */
  note: string | null;
  records: number;
  embedded: number;
  vectors_indexed: number;
  index_backlog: number;
  index_start: 'snapshot' | 'rebuild' | 'loading' | 'failed' | null;
}

/** Counts from the store, plus which embedding model is active and how far embedding and indexing have got. */
export async function memoryStats(ctx: MemoryContext): Promise<StoreStats & { default_namespace: string; embedding: EmbeddingStatus }> {
  const model = ctx.embedder?.model ?? null;
  const progress = model ? await ctx.store.embeddingProgress(model.key) : null;
  ctx.vectors?.catchUp();
  const index = ctx.vectors?.stats() ?? null;
  const state = ctx.vectors?.state().state ?? null;
  const stats = await ctx.store.stats();
  return {
    ...stats,
    default_namespace: ctx.defaultNamespace,
    embedding: {
      model_id: model?.id ?? null,
      model_key: model?.key ?? null,
      dimension: model?.dimension ?? null,
      // An embedding service that stopped answering says why here too.
      note: ctx.modelNote ?? ctx.embedder?.status?.() ?? null,
      records: progress?.docs ?? 0,
      embedded: progress?.embedded ?? 0,
      // An index in the database (no local one) holds every stored vector.
      vectors_indexed: index?.vectors ?? (state === 'ready' ? (progress?.embedded ?? 0) : 0),
      // While the index loads, every stored vector is still to come.
      index_backlog: index?.backlog ?? (state === 'loading' ? (progress?.embedded ?? 0) : 0),
      index_start: index?.start.mode ?? (state === 'loading' || state === 'failed' ? state : null),
    },
  };
}
