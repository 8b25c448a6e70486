import { z } from 'zod';
import { MemoryError } from '../domain/errors.js';
import { MemoryInput, type Memory } from '../domain/memory.js';
import type { Provenance } from '../domain/provenance.js';
import type { GoalSnapshot } from '../store/store.js';
import type { Caller, MemoryContext } from './context.js';
import { EXPORT_VERSION, ExportedEvidence, ExportedGoal, ExportedMemory, ExportedOutcome, ExportHeader } from './export-format.js';
import { checkJsonObject, checkTextSize, reservedKeyProblem } from './limits.js';
import { MAX_BATCH, remember } from './remember.js';
import { graphLineMemories } from './server-memory-format.js';
import { noteOutcomeStep, restoredMemoryTexts, restoreGoalRecord, stepTitles } from './restore-records.js';

export interface ImportProgress {
  lines: number;
  /** Records stored: memories, goals and outcomes together. */
  imported: number;
  memories: number;
  goals: number;
  outcomes: number;
  /** Records whose id was stored already: importing a file again stores nothing twice. */
  skipped: number;
  failed: number;
}

export interface ImportProblem {
  line: number;
  message: string;
}

/**
 * What the lines are: pinak-memory's own (a backup, or remember inputs), or
 * the knowledge graph of the reference memory server (server-memory-format.ts).
 */
export type ImportFormat = 'pinak-memory' | 'server-memory';

/** As many as one `remember` call takes: a larger batch would be refused and fall back to one transaction per line. */
const BATCH = MAX_BATCH;

const describeIssue = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`)
    .join('; ');

/** What a failed write says on its line: a clash of ids in plain words, anything else as it is. */
function writeProblem(error: unknown, what: string): string {
  if (error instanceof MemoryError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) return `${what} shares an id with a different record stored already; nothing of it was imported`;
  throw error;
}

/**
 * Import JSON lines: a backup written by `export` (goals with their plans and
 * steps, outcomes and memories, kept with their ids, statuses and times), an
 * older export of memories alone, or plain `remember` inputs (given new ids).
 * Records whose id is stored already are skipped, so importing a file again
 * stores nothing twice. Lines are checked one by one; a bad line is reported
 * with its number and skipped, the rest are stored (memories in batches, a
 * goal with all its plans at once, each atomic). A header from a newer
 * format refuses the whole file. From a server-memory file, each entity
 * and relation line becomes memories with ids of their own (see
 * server-memory-format.ts), stored as a backup's memories are: a line
 * imported before is skipped.
 */
export async function importRecords(
  ctx: MemoryContext,
  caller: Caller,
  lines: AsyncIterable<string>,
  onProgress: (progress: ImportProgress) => void = () => {},
  format: ImportFormat = 'pinak-memory',
): Promise<{ progress: ImportProgress; problems: ImportProblem[] }> {
  const progress: ImportProgress = { lines: 0, imported: 0, memories: 0, goals: 0, outcomes: 0, skipped: 0, failed: 0 };
  const problems: ImportProblem[] = [];
  const fail = (line: number, message: string): void => {
    progress.failed += 1;
    if (problems.length < 100) problems.push({ line, message });
  };
  const stored = (kind: 'memories' | 'goals' | 'outcomes', count: number): void => {
    progress[kind] += count;
    progress.imported += count;
  };
  // What another server's file becomes is new records: imported, by whoever runs the import.
  const importedProvenance: Provenance = { origin: caller.defaultOrigin ?? 'import', origin_ref: null, written_by: caller.principalId ?? null };
  let whole: Array<{ memory: Memory; line: number }> = [];
  let fresh: Array<{ input: MemoryInput; line: number }> = [];
  // The step each outcome's memories report on: record_outcome indexed them with the step's title.
  const stepOfMemory = new Map<string, string>();

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
    if (todo.length === 0) return;
    const indexed = await restoredMemoryTexts(ctx, todo.map((b) => b.memory), stepOfMemory);
    try {
      await ctx.store.insertMemories(todo.map((b, i) => ({ memory: b.memory, indexed: indexed[i]! })));
      stored('memories', todo.length);
    } catch {
      // One clash refuses the batch: store the rest one by one, to report exactly which line failed.
      for (const [i, item] of todo.entries()) {
        try {
          await ctx.store.insertMemories([{ memory: item.memory, indexed: indexed[i]! }]);
          stored('memories', 1);
        } catch (error) {
          fail(item.line, writeProblem(error, `memory ${item.memory.id}`));
        }
      }
    }
  };
  const flushFresh = async (): Promise<void> => {
    const batch = fresh;
    fresh = [];
    if (batch.length === 0) return;
    try {
      stored('memories', (await remember(ctx, caller, batch.map((b) => b.input))).stored.length);
    } catch {
      // One bad item refuses a batch: store the rest one by one, to report exactly which line failed.
      for (const item of batch) {
        try {
          stored('memories', (await remember(ctx, caller, [item.input])).stored.length);
        } catch (error) {
          fail(item.line, (error as Error).message);
        }
      }
    }
  };

  const restoreGoal = async (goal: ExportedGoal, line: number): Promise<void> => {
    checkJsonObject('metadata', goal.metadata, ctx.limits.maxMetadataBytes);
    if (await ctx.store.getGoal(goal.id)) {
      progress.skipped += 1;
      return;
    }
    if (goal.parent_goal_id !== null && !(await ctx.store.getGoal(goal.parent_goal_id))) {
      return fail(line, `the parent goal ${goal.parent_goal_id} is not stored; its line must come before this one (export writes parents first)`);
    }
    const { type: _type, ...snapshot } = goal;
    try {
      const done = await restoreGoalRecord(ctx, snapshot satisfies GoalSnapshot);
      if (done) stored('goals', 1);
      else progress.skipped += 1;
    } catch (error) {
      fail(line, writeProblem(error, `goal ${goal.id}`));
    }
  };

  const restoreOutcome = async (outcome: ExportedOutcome, line: number): Promise<void> => {
    checkJsonObject('metrics', outcome.metrics, ctx.limits.maxMetadataBytes);
    const goal = await ctx.store.getGoal(outcome.goal_id);
    if (!goal) return fail(line, `its goal ${outcome.goal_id} is not stored; the goal's line must come before this one (export writes goals first)`);
    if (outcome.step_id !== null && !stepTitles(goal).has(outcome.step_id)) return fail(line, `step ${outcome.step_id} is not a step of goal ${goal.id}`);
    noteOutcomeStep(stepOfMemory, outcome);
    const { type: _type, ...record } = outcome;
    try {
      if (await ctx.store.restoreOutcome(record)) stored('outcomes', 1);
      else progress.skipped += 1;
    } catch (error) {
      fail(line, writeProblem(error, `outcome ${outcome.id}`));
    }
  };

  /** A lesson recalled for a goal (its track record): stored unless it is already; not counted as a record. */
  const restoreEvidence = async (evidence: ExportedEvidence, line: number): Promise<void> => {
    const { type: _type, ...row } = evidence;
    try {
      await ctx.store.restoreEvidence([row]);
    } catch (error) {
      fail(line, writeProblem(error, `the evidence of memory ${row.memory_id}`));
    }
  };

  /** A backup's first line: a newer format than this code reads refuses the whole file, before anything is stored. */
  const readHeader = (value: Record<string, unknown>, line: number): void => {
    const header = ExportHeader.safeParse(value);
    if (!header.success) return fail(line, describeIssue(header.error));
    if (line !== 1) return fail(line, 'a header belongs on the first line; was one file appended to another?');
    if (header.data.version > EXPORT_VERSION) {
      throw new MemoryError('invalid_input', `the file is in export format ${header.data.version}, newer than this pinak-memory reads (${EXPORT_VERSION}); import it with a newer pinak-memory`);
    }
  };

  /** One record of a backup (it has a `type`) or a memory of an older export. */
  const readRecord = async (value: Record<string, unknown>, line: number): Promise<void> => {
    switch (value.type) {
      case 'goal': {
        const goal = ExportedGoal.safeParse(value);
        return goal.success ? restoreGoal(goal.data, line) : fail(line, describeIssue(goal.error));
      }
      case 'outcome': {
        const outcome = ExportedOutcome.safeParse(value);
        return outcome.success ? restoreOutcome(outcome.data, line) : fail(line, describeIssue(outcome.error));
      }
      case 'evidence': {
        const evidence = ExportedEvidence.safeParse(value);
        return evidence.success ? restoreEvidence(evidence.data, line) : fail(line, describeIssue(evidence.error));
      }
      default: {
        const exported = ExportedMemory.safeParse(value);
        if (!exported.success) return fail(line, describeIssue(exported.error));
        checkTextSize('content', exported.data.content, ctx.limits.maxContentBytes);
        checkJsonObject('metadata', exported.data.metadata, ctx.limits.maxMetadataBytes);
        const { type: _type, ...memory } = exported.data;
        whole.push({ memory: memory satisfies Memory, line });
        if (whole.length >= BATCH) await flushWhole();
      }
    }
  };

  /** One entity or relation of a server-memory graph: its memories are stored as a backup's are. */
  const readGraphLine = async (value: Record<string, unknown>, line: number): Promise<void> => {
    let memories: Memory[];
    try {
      memories = graphLineMemories(value, ctx.defaultNamespace, ctx.now(), importedProvenance);
      for (const memory of memories) {
        checkTextSize('content', memory.content, ctx.limits.maxContentBytes);
        checkJsonObject('metadata', memory.metadata, ctx.limits.maxMetadataBytes);
      }
    } catch (error) {
      if (!(error instanceof MemoryError)) throw error;
      return fail(line, error.message);
    }
    for (const memory of memories) whole.push({ memory, line });
    if (whole.length >= BATCH) await flushWhole();
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
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(line, 'not a JSON object; each line holds one record');
      continue;
    }
    const record = value as Record<string, unknown>;
    if (format === 'server-memory') await readGraphLine(record, line);
    // A line with a type, or with an id, is a stored record; anything else a remember input.
    else if (record.type === 'header') readHeader(record, line);
    else if ('type' in record || 'id' in record) {
      try {
        await readRecord(record, line);
      } catch (error) {
        if (!(error instanceof MemoryError)) throw error;
        fail(line, error.message);
      }
    } else {
      // "import" is what these lines get anyway; a caller cannot claim it, so it is dropped rather than refused.
      const { origin, ...rest } = record;
      const input = MemoryInput.safeParse(origin === 'import' ? rest : record);
      if (!input.success) fail(line, describeIssue(input.error));
      else fresh.push({ input: input.data, line });
      if (fresh.length >= BATCH) await flushFresh();
    }
    if (line % 1000 === 0) onProgress({ ...progress });
  }
  await flushWhole();
  await flushFresh();
  onProgress({ ...progress });
  return { progress, problems };
}
