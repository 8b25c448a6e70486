import { z } from 'zod';
import { MemoryError } from '../domain/errors.js';
import { ID_PATTERN } from '../domain/ids.js';
import { Memory, MemoryInput } from '../domain/memory.js';
import type { Caller, MemoryContext } from './context.js';
import { checkJsonObject, checkTextSize, reservedKeyProblem } from './limits.js';
import { MAX_BATCH, remember } from './remember.js';
import { memorySearchText } from './search-text.js';

/** A line of an export: a whole memory, ids and times included, so export → import loses nothing. */
const ExportedMemory = Memory.extend({ id: z.string().regex(ID_PATTERN, 'must be a ULID') }).strict();

export interface ImportProgress {
  lines: number;
  imported: number;
  skipped: number;
  failed: number;
}

export interface ImportProblem {
  line: number;
  message: string;
}

/** As many as one `remember` call takes: a larger batch would be refused and fall back to one transaction per line. */
const BATCH = MAX_BATCH;

const describeIssue = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`)
    .join('; ');

/**
 * Import memories from JSON lines: either whole exported memories (kept with
 * their ids and times; ones already present are skipped, so an import can be
 * re-run) or plain `remember` inputs (given new ids). Lines are checked one by
 * one; a bad line is reported with its number and skipped, the rest are
 * stored in batches, each atomic.
 */
export async function importMemories(
  ctx: MemoryContext,
  caller: Caller,
  lines: AsyncIterable<string>,
  onProgress: (progress: ImportProgress) => void = () => {},
): Promise<{ progress: ImportProgress; problems: ImportProblem[] }> {
  const progress: ImportProgress = { lines: 0, imported: 0, skipped: 0, failed: 0 };
  const problems: ImportProblem[] = [];
  const fail = (line: number, message: string): void => {
    progress.failed += 1;
    if (problems.length < 100) problems.push({ line, message });
  };
  let whole: Array<{ memory: Memory; line: number }> = [];
  let fresh: Array<{ input: MemoryInput; line: number }> = [];

  const flushWhole = async (): Promise<void> => {
    const batch = whole;
    whole = [];
    if (batch.length === 0) return;
    const present = new Set((await ctx.store.getMemories(batch.map((b) => b.memory.id))).map((m) => m.id));
    const todo = batch.filter((b) => {
      if (present.has(b.memory.id)) return false;
      present.add(b.memory.id); // the same id twice in one file: keep the first
      return true;
    });
    progress.skipped += batch.length - todo.length;
    const titles = new Map<string, string>();
    for (const goalId of new Set(todo.flatMap((b) => (b.memory.goal_id ? [b.memory.goal_id] : [])))) {
      const goal = await ctx.store.getGoal(goalId);
      if (goal) titles.set(goalId, goal.title);
    }
    const indexed = await ctx.indexer.index(todo.map((b) => memorySearchText(b.memory.content, titles.get(b.memory.goal_id ?? '') ?? null)));
    await ctx.store.insertMemories(todo.map((b, i) => ({ memory: b.memory, indexed: indexed[i]! })));
    progress.imported += todo.length;
  };
  const flushFresh = async (): Promise<void> => {
    const batch = fresh;
    fresh = [];
    if (batch.length === 0) return;
    try {
      progress.imported += (await remember(ctx, caller, batch.map((b) => b.input))).length;
    } catch {
      // One bad item refuses a batch: store the rest one by one, to report exactly which line failed.
      for (const item of batch) {
        try {
          progress.imported += (await remember(ctx, caller, [item.input])).length;
        } catch (error) {
          fail(item.line, (error as Error).message);
        }
      }
    }
  };

  for await (const text of lines) {
    progress.lines += 1;
    const line = progress.lines;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      fail(line, 'not valid JSON');
      continue;
    }
    const reserved = reservedKeyProblem(value);
    if (reserved !== null) {
      fail(line, reserved);
      continue;
    }
    const exported = ExportedMemory.safeParse(value);
    if (exported.success) {
      try {
        checkTextSize('content', exported.data.content, ctx.limits.maxContentBytes);
        checkJsonObject('metadata', exported.data.metadata, ctx.limits.maxMetadataBytes);
      } catch (error) {
        fail(line, (error as MemoryError).message);
        continue;
      }
      whole.push({ memory: exported.data as Memory, line });
    } else {
      const input = MemoryInput.safeParse(value);
      if (!input.success) {
        fail(line, describeIssue(input.error));
        continue;
      }
      fresh.push({ input: input.data, line });
    }
    if (whole.length >= BATCH) await flushWhole();
    if (fresh.length >= BATCH) await flushFresh();
    if (line % 1000 === 0) onProgress({ ...progress });
  }
  await flushWhole();
  await flushFresh();
  onProgress({ ...progress });
  return { progress, problems };
}
