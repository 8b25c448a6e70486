import type { EvidenceRecord } from '../domain/evidence.js';
import type { Logger } from '../logging.js';
import { noteOutcomeStep, restoredMemoryTexts, restoreGoalRecord, type Restoring } from '../memory/restore-records.js';
import { createTextIndexer } from '../memory/text-indexer.js';
import type { Memory } from '../domain/memory.js';
import type { GoalSnapshot, MemoryStore } from '../store/store.js';
import type { PostgresTarget } from './postgres-target.js';
import type { SqliteSource } from './sqlite-source.js';

/** Memories per transaction: as many as one `remember` call takes. */
const MEMORY_BATCH = 100;
/** Vectors, idempotency records, sessions and audit rows per batch. */
const VECTOR_BATCH = 500;
const ROW_BATCH = 1000;

/** One tenant's two ends: its SQLite store and tables, its PostgreSQL store (in the tenant's schema) and tables. */
export interface TenantEnds {
  source: MemoryStore;
  sourceTables: SqliteSource;
  target: MemoryStore;
  targetTables: PostgresTarget;
  /** Whether the target keeps vectors where it searches them (pgvector): they are copied only then. */
  vectors: boolean;
}

/** What one run copied, and what it found copied already. */
export interface CopyCounts {
  memories: number;
  goals: number;
  outcomes: number;
  vectors: number;
  idempotencyKeys: number;
  auditRows: number;
  /** Records, vectors and idempotency records found in the target already (a resumed or repeated run). */
  present: number;
}

/**
 * Copy one tenant's store into its schema, resuming where an earlier run
 * stopped (see PostgresTarget for how): speaker names (in the source's
 * order), model identities, goals with every plan revision (parents first),
 * outcomes, memories, vectors, idempotency records, the audit trail, and
 * the keyword statistics. Records are stored through the same restore paths
 * as `import`, indexed by the text their tools indexed them by.
 *
 * Records go oldest first, goals among memories by id, so that each gets
 * its doc id in the source's order (see MemoryOrder for the one exception).
 */
export async function copyTenant(ends: TenantEnds, logger: Logger, onProgress: (done: number, total: number) => void): Promise<CopyCounts> {
  const { source, sourceTables, target, targetTables } = ends;
  // Text only, as with --embed-model none: vectors are copied as they are, not made again.
  const restoring: Restoring = { store: target, indexer: createTextIndexer(null, logger) };
  const counts: CopyCounts = { memories: 0, goals: 0, outcomes: 0, vectors: 0, idempotencyKeys: 0, auditRows: 0, present: 0 };

  const stats = await source.stats();
  const models = await sourceTables.models();
  const vectorsLeft = ends.vectors ? await remainingVectors(ends, models.map((m) => m.model_key)) : 0;
  const auditFrom = await targetTables.auditSeq();
  const total =
    stats.memories_total + Object.values(stats.goals_by_status).reduce((a, b) => a + b, 0) + stats.outcomes +
    vectorsLeft + sourceTables.idempotencyCount() + sourceTables.auditRowsAfter(auditFrom);
  let done = 0;
  const advance = (n: number): void => {
    done += n;
    onProgress(done, total);
  };
  advance(0);

  // Names first, so that the memories stored next leave their order as it was.
  await targetTables.copySpeakerNames((await source.speakerNames(0)).names);
  await targetTables.copyModels(models);

  // Records oldest first, goals among memories by id (ids grow with time): each gets a doc id in the
  // order the source gave them, which keyword search breaks ties of equal scores by.
  const stepOfMemory = new Map<string, string>();
  for (const outcome of sourceTables.outcomeSteps()) noteOutcomeStep(stepOfMemory, outcome);
  const goals = goalsOf(source);
  let goal = await goals.next();
  const restoreGoal = async (snapshot: GoalSnapshot): Promise<void> => {
    if (await restoreGoalRecord(restoring, snapshot)) counts.goals += 1;
    else counts.present += 1;
    advance(1);
  };
  const memories = new MemoryOrder(sourceTables.lastSuperseders());
  const storeMemories = async (batch: readonly Memory[]): Promise<void> => {
    if (batch.length === 0) return;
    const indexed = await restoredMemoryTexts(restoring, batch, stepOfMemory);
    await target.insertMemories(batch.map((memory, i) => ({ memory, indexed: indexed[i]! })));
    counts.memories += batch.length;
    advance(batch.length);
  };
  for (let after = ''; ; ) {
    const ids = sourceTables.memoryIdsAfter(after, MEMORY_BATCH);
    if (ids.length === 0) break;
    after = ids.at(-1)!;
    const present = new Set((await target.getMemories(ids)).map((memory) => memory.id));
    counts.present += present.size;
    advance(present.size);
    const fresh = new Map((await source.getMemories(ids.filter((id) => !present.has(id)))).map((memory) => [memory.id, memory]));
    let run: Memory[] = [];
    for (const id of ids) {
      while (goal !== null && goal.id < id) {
        await storeMemories(run);
        run = [];
        await restoreGoal(goal);
        goal = await goals.next();
      }
      const memory = fresh.get(id);
      if (memory) run.push(...(await memories.place(memory, target)));
    }
    await storeMemories(run);
  }
  for (; goal !== null; goal = await goals.next()) await restoreGoal(goal);
  if (memories.waiting > 0) throw new Error(`${memories.waiting} superseded memories waited for a memory that never came`);

  // Outcomes, once their goals and steps are stored.
  for await (const record of source.exportRecords()) {
    if (record.type === 'memory') break;
    if (record.type !== 'outcome') continue;
    if (await target.restoreOutcome(record.outcome)) counts.outcomes += 1;
    else counts.present += 1;
    advance(1);
  }

  // The lessons recalled for goals (the evidence from outcomes came with them), after every record.
  let evidence: EvidenceRecord[] = [];
  const copyEvidence = async (): Promise<void> => {
    // Not counted as records: a lesson's track record goes with it.
    await target.restoreEvidence(evidence);
    advance(evidence.length);
    evidence = [];
  };
  for await (const record of source.exportRecords()) {
    if (record.type !== 'evidence') continue;
    evidence.push(record.evidence);
    if (evidence.length >= ROW_BATCH) await copyEvidence();
  }
  await copyEvidence();

  if (ends.vectors) {
    for (const model of models) {
      // Its vector index is made now, while empty: each vector then joins it as it is stored.
      await target.registerModel({ key: model.model_key, id: model.model_id, dimension: model.dimension, fingerprint: model.fingerprint });
      counts.vectors += await copyVectors(ends, model.model_key, advance);
    }
  }

  for (let after = ''; ; ) {
    const page = await sourceTables.idempotency(after, ROW_BATCH);
    if (page.length === 0) break;
    after = page.at(-1)!.key;
    const added = await targetTables.copyIdempotency(page);
    counts.idempotencyKeys += added;
    counts.present += page.length - added;
    advance(page.length);
  }

  for (let after = ''; ; ) {
    const page = sourceTables.auditSessions(after, ROW_BATCH);
    if (page.length === 0) break;
    after = page.at(-1)!.session_id;
    await targetTables.copySessions(page);
  }
  for (let seq = auditFrom; ; ) {
    const rows = sourceTables.auditAfter(seq, ROW_BATCH);
    if (rows.length === 0) break;
    await targetTables.appendAudit(rows, seq);
    seq = rows.at(-1)!.seq;
    counts.auditRows += rows.length;
    advance(rows.length);
  }

  await targetTables.matchKeywordTotals(await sourceTables.keywordTotals());
  return counts;
}

/** Vectors of these models the source holds and the target does not yet. */
async function remainingVectors(ends: TenantEnds, modelKeys: readonly string[]): Promise<number> {
  const held = ends.sourceTables.vectorCounts();
  let left = 0;
  for (const key of modelKeys) left += Math.max(0, (held.get(key) ?? 0) - (await ends.target.embeddingProgress(key)).embedded);
  return left;
}

/**
 * Copy the vectors of one model as they are (never embedded again): the
 * target's records without one, page by page, matched to the source's by
 * record id, and given the source's vector where it has one.
 */
async function copyVectors(ends: TenantEnds, modelKey: string, advance: (n: number) => void): Promise<number> {
  let copied = 0;
  for (let after = 0; ; ) {
    const page = await ends.target.docsWithoutVector(modelKey, VECTOR_BATCH, after);
    if (page.length === 0) return copied;
    after = page.at(-1)!.doc_id;
    const entities = await ends.targetTables.entityIdsOf(page.map((doc) => doc.doc_id));
    const sourceDocs = await ends.sourceTables.docIdsOf([...entities.values()]);
    const targetDoc = new Map<number, number>();
    for (const [docId, entity] of entities) {
      const sourceDoc = sourceDocs.get(entity);
      if (sourceDoc !== undefined) targetDoc.set(sourceDoc, docId);
    }
    const vectors = await ends.source.vectorsOf([...targetDoc.keys()], modelKey);
    if (vectors.length === 0) continue;
    await ends.target.setVectors(vectors.map(({ doc_id, vector }) => ({ doc_id: targetDoc.get(doc_id)!, vector: { modelKey, values: float32(vector) } })));
    copied += vectors.length;
    advance(vectors.length);
  }
}

/** Raw float32 bytes as values (copied: the bytes a database returns need not be 4-byte aligned). */
function float32(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/**
 * The goals of a store, oldest first, one at a time (null after the last).
 * The export is ended as soon as it has passed them, before the caller
 * reads anything else from the store.
 */
function goalsOf(store: MemoryStore): { next(): Promise<GoalSnapshot | null> } {
  const records = store.exportRecords()[Symbol.asyncIterator]();
  let done = false;
  return {
    async next() {
      if (done) return null;
      const record = await records.next();
      if (!record.done && record.value.type === 'goal') return record.value.goal;
      done = true;
      await records.return?.();
      return null;
    },
  };
}

/**
 * The order memories are stored in: oldest first, as the source stored
 * them. Storing a memory that supersedes another marks that one superseded
 * by it, as remember did; so the memory that last superseded another, stored
 * after it, leaves it marked as the source has it, unless its state came
 * otherwise (that correction deleted since, say, after an earlier one): such
 * a memory waits, and is stored right after the last memory superseding it,
 * which then finds nothing to mark, so it keeps its own stored state.
 */
class MemoryOrder {
  private readonly after = new Map<string, Memory[]>();

  constructor(private readonly lastSuperseder: ReadonlyMap<string, { id: string; created_at: string }>) {}

  /** Memories waiting for one not stored yet. */
  get waiting(): number {
    let n = 0;
    for (const list of this.after.values()) n += list.length;
    return n;
  }

  /** What to store now that `memory` comes: nothing (it waits), or it with whatever waited for it. */
  async place(memory: Memory, target: MemoryStore): Promise<Memory[]> {
    const last = this.lastSuperseder.get(memory.id);
    const marked = last === undefined || (memory.superseded_by === last.id && memory.updated_at === last.created_at);
    // Stored already (by an earlier run): it will mark nothing again.
    if (!marked && (await target.getMemories([last.id])).length === 0) {
      this.after.set(last.id, [...(this.after.get(last.id) ?? []), memory]);
      return [];
    }
    return this.release(memory);
  }

  private release(memory: Memory): Memory[] {
    const waited = this.after.get(memory.id) ?? [];
    this.after.delete(memory.id);
    return [memory, ...waited.flatMap((next) => this.release(next))];
  }
}
