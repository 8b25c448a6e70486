import { MemoryError } from '../domain/errors.js';
import type { Memory } from '../domain/memory.js';
import type { StoreStats } from '../store/store.js';
import type { MemoryContext } from './context.js';

/** Fetch memories by id; unknown ids are reported, and an all-unknown request is an error. */
export async function getMemories(ctx: MemoryContext, ids: readonly string[]): Promise<{ memories: Memory[]; missing: string[] }> {
  const unique = [...new Set(ids)];
  const memories = await ctx.store.getMemories(unique);
  const found = new Set(memories.map((m) => m.id));
  const missing = unique.filter((id) => !found.has(id));
  if (memories.length === 0) {
    throw new MemoryError('not_found', `no memory with id ${missing.join(', ')}; call search_memory to find memory ids`);
  }
  return { memories, missing };
}

/** Delete memories for good; they leave search at once. */
export async function forget(ctx: MemoryContext, ids: readonly string[]): Promise<{ forgotten: string[]; missing: string[] }> {
  const unique = [...new Set(ids)];
  const forgotten = await ctx.store.deleteMemories(unique);
  const gone = new Set(forgotten);
  const missing = unique.filter((id) => !gone.has(id));
  if (forgotten.length === 0) {
    throw new MemoryError('not_found', `no memory with id ${missing.join(', ')}; nothing was deleted`);
  }
  return { forgotten, missing };
}

export async function memoryStats(ctx: MemoryContext): Promise<StoreStats & { default_namespace: string }> {
  return { ...(await ctx.store.stats()), default_namespace: ctx.defaultNamespace };
}
