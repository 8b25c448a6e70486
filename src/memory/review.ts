import { MemoryError, notFound } from '../domain/errors.js';
import { ID_PATTERN } from '../domain/ids.js';
import type { Memory } from '../domain/memory.js';
import type { MemoryContext } from './context.js';
import { restoredMemoryTexts } from './restore-records.js';

/**
 * The review queue: memories a write held because the injection detector
 * flagged them (firewall/injection-guard.ts). Held, a memory is stored and
 * audited but found by no search and read by no one but an admin who asks
 * for it by id; approved, it is indexed and embedded as remember would have
 * done and searchable from then on; rejected, it is deleted as forget
 * deletes. The callers (the CLI) write each decision to the audit trail.
 */

/** The review queue of one runtime (what the CLI and the memory browser decide through). */
export interface ReviewQueue {
  held(namespace?: string): Promise<Memory[]>;
  get(id: string): Promise<Memory>;
  approve(id: string): Promise<Memory>;
  reject(id: string): Promise<Memory>;
}

export const reviewQueue = (ctx: Pick<MemoryContext, 'store' | 'indexer' | 'now'>): ReviewQueue => ({
  held: (namespace) => heldMemories(ctx, namespace),
  get: (id) => heldMemory(ctx, id),
  approve: (id) => approveHeld(ctx, id),
  reject: (id) => rejectHeld(ctx, id),
});

/** Held memories, oldest first; optionally of one namespace. */
export function heldMemories(ctx: Pick<MemoryContext, 'store'>, namespace?: string): Promise<Memory[]> {
  return ctx.store.heldMemories(namespace);
}

/** A held memory by id; a clear error for an id that is no memory id, not stored, or not held. */
export async function heldMemory(ctx: Pick<MemoryContext, 'store'>, id: string): Promise<Memory> {
  if (!ID_PATTERN.test(id)) throw new MemoryError('invalid_input', `${JSON.stringify(id)} is not a memory id (26 characters of 0-9 and A-Z, as review list shows)`);
  const [memory] = await ctx.store.getMemories([id]);
  if (!memory) throw notFound('memory', id, 'it may have been rejected or forgotten; review list shows the memories held now');
  if (!memory.held) throw new MemoryError('conflict', `memory ${id} is not held for review (approved already, or never held)`);
  return memory;
}

/** Approve a held memory: indexed and embedded now, searchable from then on. */
export async function approveHeld(ctx: Pick<MemoryContext, 'store' | 'indexer' | 'now'>, id: string): Promise<Memory> {
  const memory = await heldMemory(ctx, id);
  const [indexed] = await restoredMemoryTexts(ctx, [memory], new Map());
  // Approved meanwhile by another reviewer: the store changed nothing.
  if (!(await ctx.store.approveMemory(id, indexed!, ctx.now()))) throw new MemoryError('conflict', `memory ${id} is not held for review (approved already, or never held)`);
  return { ...memory, held: false };
}

/** Reject a held memory: deleted, as forget deletes it. */
export async function rejectHeld(ctx: Pick<MemoryContext, 'store'>, id: string): Promise<Memory> {
  const memory = await heldMemory(ctx, id);
  const removed = await ctx.store.deleteMemories([id]);
  if (removed.length === 0) throw notFound('memory', id, 'it was rejected or forgotten meanwhile');
  return memory;
}
