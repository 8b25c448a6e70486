import { MemoryError, notFound } from '../domain/errors.js';
import { toIsoTimestamp } from '../domain/fields.js';
import { newId } from '../domain/ids.js';
import { freshMemory, type Memory, type MemoryInput } from '../domain/memory.js';
import type { Caller, MemoryContext } from './context.js';
import { claimMaking } from './idempotency.js';
import { SecretGuard, type RedactedField } from '../firewall/secret-guard.js';
import { injectionAction, judgeInjection, stringsOf } from '../firewall/injection-guard.js';
import { findSameMemories } from './lesson-merge.js';
import { checkJsonObject, checkTextSize } from './limits.js';
import { provenanceFor } from './provenance.js';
import { memoryKeywords, memorySearchText } from './search-text.js';

export const MAX_BATCH = 100;

/** What remember does with a memory that says what a stored one says (see lesson-merge.ts): store it anyway, leave it out, or store it as the stored one's correction. */
export type OnDuplicate = 'keep' | 'skip' | 'supersede';

/** What remember answers for each stored memory; `similar` when the call asked for the duplicate check. */
export interface StoredSummary {
  id: string;
  layer: Memory['layer'];
  kind: string;
  namespace: string;
  occurred_at: string;
  supersedes: string | null;
  similar?: string[];
}
export const storedSummary = (m: Memory, similar?: string[]): StoredSummary => ({
  id: m.id,
  layer: m.layer,
  kind: m.kind,
  namespace: m.namespace,
  occurred_at: m.occurred_at,
  supersedes: m.supersedes,
  ...(similar === undefined ? {} : { similar }),
});

/**
 * What a remember call did: the memories stored (each with the stored ones
 * like it, when checked), those left out as duplicates, and the fields whose
 * secrets were replaced by marks. The note its idempotency claim keeps is
 * all of it but the memories themselves.
 */
export interface Remembered {
  stored: StoredSummary[];
  memories: Memory[];
  skipped: Array<{ index: number; similar: string[] }>;
  redacted: RedactedField[];
  /** Memories the injection detector flagged: held for review (invisible until approved), or stored with a flag. */
  held?: InjectionNote[];
  flagged?: InjectionNote[];
}

/** A memory of the call (its place, from 0) the injection detector flagged, and the signals it found. */
export interface InjectionNote {
  index: number;
  id: string;
  signals: string[];
}
export type RememberedNote = Omit<Remembered, 'memories'>;

/**
 * Store one or more memories atomically. Every item is checked first (sizes,
 * linked goal, superseded memory), so a bad item refuses the whole batch and
 * nothing is half-written.
 */
export async function remember(ctx: MemoryContext, caller: Caller, inputs: readonly MemoryInput[], onDuplicate?: OnDuplicate): Promise<Remembered> {
  if (inputs.length === 0) throw new MemoryError('invalid_input', 'nothing to remember: pass content, or memories with 1 to 100 items');
  if (inputs.length > MAX_BATCH) throw new MemoryError('too_large', `a batch holds at most ${MAX_BATCH} memories; got ${inputs.length}`);
  // Asked for: one search per memory for stored ones that say the same (the same namespace and layer).
  const scope = { confined: caller.confined === true, ...(caller.signal ? { signal: caller.signal } : {}) };
  const similar =
    onDuplicate === undefined
      ? null
      : await Promise.all(inputs.map((input) => findSameMemories(ctx, { namespace: input.namespace ?? ctx.defaultNamespace, layer: input.layer, content: input.content }, scope)));
  const skipped = onDuplicate === 'skip' && similar ? inputs.flatMap((_, index) => (similar[index]!.length ? [{ index, similar: similar[index]! }] : [])) : [];
  const kept = inputs.flatMap((input, index) => (skipped.some((s) => s.index === index) ? [] : [{ input, index }]));
  if (kept.length === 0) return { stored: [], memories: [], skipped, redacted: [] };
  const held: InjectionNote[] = [];
  const flagged: InjectionNote[] = [];

  const now = ctx.now();
  const superseded = new Set<string>();
  const memories: Memory[] = [];
  const searchText: string[] = [];
  const redacted: RedactedField[] = [];
  const similarOf: Array<string[] | undefined> = [];
  for (const { input: given, index: i } of kept) {
    const where = inputs.length > 1 ? `memories[${i}].` : '';
    const like = similar?.[i];
    similarOf.push(like);
    // supersede: the most alike stored memory not corrected by another of this call, unless the memory names its own.
    const replaces = onDuplicate === 'supersede' && given.supersedes === undefined ? like?.find((id) => !superseded.has(id)) : undefined;
    const input = replaces === undefined ? given : { ...given, supersedes: replaces };
    checkTextSize(`${where}content`, input.content, ctx.limits.maxContentBytes);
    checkJsonObject(`${where}metadata`, input.metadata, ctx.limits.maxMetadataBytes);
    const namespace = input.namespace ?? ctx.defaultNamespace;

    let goalTitle: string | null = null;
    if (input.goal_id !== undefined) {
      const goal = await ctx.store.getGoal(input.goal_id);
      if (!goal || goal.namespace !== namespace) {
        throw notFound('goal', input.goal_id, `no such goal in namespace "${namespace}"; call list_goals to find it`);
      }
      goalTitle = goal.title;
    }
    if (input.supersedes !== undefined) {
      const [old] = await ctx.store.getMemories([input.supersedes]);
      if (!old || old.namespace !== namespace || (old.held && caller.reviewer !== true)) {
        throw notFound('memory', input.supersedes, `cannot supersede it; call search_memory to find the memory to correct`);
      }
      if (old.held) throw new MemoryError('conflict', `${old.id} is held for review; approve or reject it before correcting it`);
      if (superseded.has(old.id)) {
        throw new MemoryError('conflict', `two memories in this batch supersede ${old.id}; keep one`);
      }
      superseded.add(old.id);
    }

    // Secrets leave the text before anything is indexed or stored.
    const guard = new SecretGuard(ctx.secrets, namespace);
    const content = await guard.text(`${where}content`, input.content);
    const metadata = await guard.json(`${where}metadata`, input.metadata);
    const provenance = await provenanceFor(guard, caller, input, where);
    redacted.push(...guard.redacted);
    // Instructions aimed at a model, judged on what will be stored (secrets already out).
    const action = injectionAction(ctx.injections, namespace, provenance.origin);
    const verdict = judgeInjection(action, where === '' ? 'the memory' : `memories[${i}]`, namespace, [content, ...stringsOf(metadata)]);
    const id = newId();
    if (verdict.injection?.length) (verdict.held ? held : flagged).push({ index: i, id, signals: verdict.injection });

    memories.push(
      freshMemory(
        {
          id,
          layer: input.layer,
          kind: input.kind,
          content,
          tags: [...new Set(input.tags)],
          metadata,
          importance: input.importance,
          namespace,
          source: input.source ?? caller.clientName,
          goal_id: input.goal_id ?? null,
          occurred_at: input.occurred_at === undefined ? now : toIsoTimestamp(input.occurred_at),
          supersedes: input.supersedes ?? null,
          thread_id: input.thread_id ?? null,
          // Null with a thread: the store places it after the thread's last memory.
          thread_position: input.thread_id === undefined ? null : (input.position ?? null),
          ...provenance,
          ...verdict,
        },
        now,
      ),
    );
    if (input.position !== undefined && input.thread_id === undefined) {
      throw new MemoryError('invalid_input', `${where}position needs thread_id: it orders memories within a thread`);
    }
    searchText.push(memorySearchText(content, goalTitle));
  }
  const indexed = await indexReporting(ctx, caller, searchText);
  // When it happened, in words, for memories that say when (events, conversation turns), and the dates their "yesterday"s and "last week"s mean.
  const withDates = indexed.map((entry, i) => {
    const keywords = memoryKeywords(memories[i]!.content, memories[i]!.occurred_at, kept[i]!.input.occurred_at !== undefined);
    return keywords === undefined ? entry : { ...entry, keywords };
  });
  const made: RememberedNote = {
    stored: memories.map((memory, i) => storedSummary(memory, similarOf[i])),
    skipped,
    redacted,
    ...(held.length ? { held } : {}),
    ...(flagged.length ? { flagged } : {}),
  };
  await ctx.store.insertMemories(memories.map((memory, i) => ({ memory, indexed: withDates[i]! })), claimMaking(caller, made));
  caller.progress?.(kept.length + 1, kept.length + 1, `stored ${kept.length} memor${kept.length === 1 ? 'y' : 'ies'}`);
  return { ...made, memories };
}

/** Memories embedded between two progress reports. */
export const PROGRESS_EVERY = 10;

/**
 * Index the texts; for a caller that asked to be told, in slices of
 * PROGRESS_EVERY with a report after each (the same vectors: each text is
 * embedded on its own). The last step of the total is storing them.
 */
async function indexReporting(ctx: MemoryContext, caller: Caller, texts: readonly string[]): ReturnType<MemoryContext['indexer']['index']> {
  const report = caller.progress;
  if (!report) return ctx.indexer.index(texts);
  const total = texts.length + 1;
  report(0, total, `embedding ${texts.length} memor${texts.length === 1 ? 'y' : 'ies'}`);
  const out: Awaited<ReturnType<MemoryContext['indexer']['index']>> = [];
  for (let start = 0; start < texts.length; start += PROGRESS_EVERY) {
    out.push(...(await ctx.indexer.index(texts.slice(start, start + PROGRESS_EVERY))));
    const done = Math.min(start + PROGRESS_EVERY, texts.length);
    report(done, total, `embedded ${done} of ${texts.length}`);
  }
  return out;
}
