import type { Logger } from '../logging.js';
import { noteOutcomeStep, restoredMemoryTexts, restoreGoalRecord, type Restoring } from '../memory/import-export.js';
import { createTextIndexer } from '../memory/text-indexer.js';
import type { MemoryStore } from '../store/store.js';
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
 * Memories go newest first. A memory that supersedes another marks it when
 * stored, as remember did; stored before the memory it supersedes, it finds
 * nothing to mark, and the older memory then comes with its own stored
 * state (superseded_by, updated_at), whatever corrections and deletions
 * came after. Oldest first, a memory superseded twice whose later
 * correction was deleted would be marked again by the first.
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

  // Goals (a parent before its children: ids grow with time), then outcomes.
  const stepOfMemory = new Map<string, string>();
  for await (const record of source.exportRecords()) {
    if (record.type === 'memory') break;
    if (record.type === 'goal') {
      if (await restoreGoalRecord(restoring, record.goal)) counts.goals += 1;
      else counts.present += 1;
    } else {
      noteOutcomeStep(stepOfMemory, record.outcome);
      if (await target.restoreOutcome(record.outcome)) counts.outcomes += 1;
      else counts.present += 1;
    }
    advance(1);
  }

  for (let before: string | null = null; ; ) {
    const ids = sourceTables.memoryIdsBefore(before, MEMORY_BATCH);
    if (ids.length === 0) break;
    before = ids.at(-1)!;
    const present = new Set((await target.getMemories(ids)).map((memory) => memory.id));
    const memories = await source.getMemories(ids.filter((id) => !present.has(id)));
    if (memories.length > 0) {
      const indexed = await restoredMemoryTexts(restoring, memories, stepOfMemory);
      await target.insertMemories(memories.map((memory, i) => ({ memory, indexed: indexed[i]! })));
    }
    counts.memories += memories.length;
    counts.present += ids.length - memories.length;
    advance(ids.length);
  }

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
