import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { redactDatabaseUrl } from '../../domain/database-url.js';
import { StartupError, type IdempotencyClaim } from '../../domain/errors.js';
import type { EvidenceRecord, Reinforcement, TrackRecord } from '../../domain/evidence.js';
import type { Goal, GoalSummary, Outcome } from '../../domain/goal.js';
import type { EmbeddedVector, IndexedText } from '../../domain/indexed-text.js';
import type { Memory } from '../../domain/memory.js';
import { FtsTokenizer } from '../fts-tokenizer.js';
import type {
  AuditQuery,
  AuditRow,
  DocView,
  ExportRecord,
  GoalListQuery,
  GoalRecord,
  GoalSnapshot,
  GoalUpdate,
  KeywordHit,
  KeywordQuery,
  KeywordText,
  MemoryStore,
  NearestVectors,
  NewMemory,
  NumberedAuditRow,
  PlanRecord,
  RecentQuery,
  StoreFilters,
  StoreStats,
  WindowHit,
} from '../store.js';
import { AuditLog } from './audit-log.js';
import { DocIndex } from './doc-index.js';
import { evidenceRecords } from './evidence-records.js';
import { GoalRecords } from './goal-records.js';
import { acquireLease, releaseLease } from './leases.js';
import { idempotencyKeys } from './idempotency-keys.js';
import { adoptKeywordTextVersion, keywordIndexMark, keywordTextVersion, rewriteKeywordIndex } from './keyword-rewrite.js';
import { MemoryRecords } from './memory-records.js';
import { ensureVectorColumn, migratePostgres, type VectorSupport } from './migrations.js';
import { isUnavailable, openPool, query, transaction, type PoolSettings } from './pool.js';
import { exportRecords } from './record-export.js';
import { SearchReads } from './search-reads.js';
import { memoryTimeline, storeStats } from './store-stats.js';
import { VectorRecords, type HnswSettings } from './vector-records.js';
import { WriteTx } from './write-tx.js';

export interface PostgresStoreOptions extends PoolSettings {
  /** Keep trying to reach the database this long at start (0: fail at once). */
  waitForDatabaseMs?: number;
  /** pgvector's HNSW settings (each model's index is built with m and ef_construction; ef_search per query). */
  hnsw?: HnswSettings;
  /** A filtered vector search whose scope holds at most this many records scans them exactly instead of walking the index. */
  exactScanLimit?: number;
  /** Keyword search in a namespace of at most this many docs scores doc by doc (see search-reads.ts); 0: never. */
  smallScopeDocs?: number;
}

const DEFAULT_HNSW = { m: 16, efConstruction: 64, efSearch: 100 };
const DEFAULT_EXACT_SCAN_LIMIT = 20_000;

/**
 * The scale-out backend: one PostgreSQL schema per tenant, shared by every
 * server process that points at it. Nothing is kept on this machine's disk:
 * a write acknowledged by one process is found by a search on any other at
 * once. Same tools, same answers as the SQLite backend (see search-reads.ts
 * for how keyword scores are kept equal).
 */
export class PostgresStore implements MemoryStore, NearestVectors {
  private readonly tokenizer = new FtsTokenizer();
  private readonly docs: DocIndex;
  private readonly memories: MemoryRecords;
  private readonly goals: GoalRecords;
  private readonly search: SearchReads;
  private readonly audit: AuditLog;
  private readonly vectorReads: VectorRecords;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
    /** What the database offers for vectors (pgvector or not). */
    readonly vectors: VectorSupport,
    options: PostgresStoreOptions,
  ) {
    this.docs = new DocIndex(vectors.column);
    this.memories = new MemoryRecords(this.docs);
    this.goals = new GoalRecords(this.docs);
    this.search = new SearchReads(pool, this.tokenizer, options.smallScopeDocs);
    this.audit = new AuditLog(pool);
    this.vectorReads = new VectorRecords(pool, schema, vectors, this.search, options.hnsw ?? DEFAULT_HNSW, options.exactScanLimit ?? DEFAULT_EXACT_SCAN_LIMIT);
  }

  /**
   * Connect, and create or migrate the schema. An unreachable database fails
   * with one line naming it (password hidden), or is waited for up to
   * `waitForDatabaseMs`.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = openPool(options);
    const where = redactDatabaseUrl(options.url);
    try {
      const client = await connectOrWait(pool, options);
      let vectors: VectorSupport;
      try {
        await migratePostgres(client, options.schema);
        vectors = await ensureVectorColumn(client, options.schema);
      } finally {
        client.release();
      }
      return new PostgresStore(pool, options.schema, vectors, options);
    } catch (error) {
      await pool.end().catch(() => {});
      if (error instanceof StartupError) throw error;
      // Wrong password, no such database, no rights on the schema: one line saying so.
      throw new StartupError(`cannot open the PostgreSQL database at ${where}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
  }

  /** One write transaction: its idempotency key claimed first, what it made noted last, the counters it changed applied at its end. */
  private write<T>(work: (tx: WriteTx) => Promise<T>, claim?: IdempotencyClaim): Promise<T> {
    return transaction(this.pool, async (client) => {
      const tx = new WriteTx(client, this.tokenizer);
      if (claim) await idempotencyKeys.claim(tx, claim);
      const result = await work(tx);
      if (claim) await idempotencyKeys.recordMade(tx, claim, result);
      await tx.flush();
      return result;
    });
  }

  async insertMemories(items: readonly NewMemory[], claim?: IdempotencyClaim): Promise<void> {
    await this.write((tx) => this.memories.addAll(tx, items), claim);
  }

  async getMemories(ids: readonly string[]): Promise<Memory[]> {
    return this.memories.get(this.pool, ids);
  }

  async heldMemories(namespace?: string): Promise<Memory[]> {
    return this.memories.held(this.pool, namespace);
  }

  async approveMemory(id: string, indexed: IndexedText, now: string): Promise<boolean> {
    return this.write((tx) => this.memories.approve(tx, id, indexed, now));
  }

  async deleteMemories(ids: readonly string[], claim?: IdempotencyClaim): Promise<string[]> {
    const now = new Date().toISOString();
    return this.write(async (tx) => {
      const removed: string[] = [];
      for (const id of ids) if (await this.memories.remove(tx, id, now)) removed.push(id);
      return removed;
    }, claim);
  }

  async createGoal(goal: GoalRecord, indexed: IndexedText, plan: PlanRecord | null, claim?: IdempotencyClaim): Promise<void> {
    await this.write((tx) => this.goals.create(tx, goal, indexed, plan), claim);
  }

  async updateGoal(update: GoalUpdate, claim?: IdempotencyClaim): Promise<void> {
    await this.write((tx) => this.goals.update(tx, update), claim);
  }

  async getGoal(id: string): Promise<Goal | undefined> {
    return this.goals.get(this.pool, id);
  }

  async listGoals(q: GoalListQuery): Promise<GoalSummary[]> {
    return this.goals.list(this.pool, q);
  }

  async activeGoalTitles(namespace: string): Promise<Array<{ id: string; title: string; description: string | null }>> {
    return this.goals.activeGoalTitles(this.pool, namespace);
  }

  async recordOutcome(outcome: Outcome, memories: readonly NewMemory[], change: GoalUpdate, claim?: IdempotencyClaim, reinforced: readonly Reinforcement[] = [], recalled: readonly string[] = []): Promise<void> {
    await this.write(async (tx) => {
      for (const r of reinforced) await this.memories.reinforce(tx, r);
      await this.memories.addAll(tx, memories);
      await this.goals.insertOutcome(tx, outcome);
      await this.goals.update(tx, change);
      await evidenceRecords.add(tx, outcome, recalled);
    }, claim);
  }

  trackRecords(memoryIds: readonly string[]): Promise<Map<string, TrackRecord>> {
    return evidenceRecords.trackRecords(this.pool, memoryIds);
  }

  findIdempotent(key: string): Promise<{ tool: string; args_sha256: string; result: unknown } | undefined> {
    return idempotencyKeys.find(this.pool, key);
  }

  recordIdempotentResult(key: string, result: unknown): Promise<void> {
    return idempotencyKeys.recordResult(this.pool, key, result);
  }

  searchKeyword(q: KeywordQuery): Promise<KeywordHit[]> {
    return this.search.keyword(q);
  }

  searchWindows(q: KeywordQuery): Promise<WindowHit[]> {
    return this.search.windows(q);
  }

  recent(q: RecentQuery): Promise<KeywordHit[]> {
    return this.search.recent(q);
  }

  threadNeighbours(docIds: readonly number[], radius: number): Promise<Array<{ center: number; doc_id: number; offset: number }>> {
    return this.search.threadNeighbours(docIds, radius);
  }

  admit(docIds: readonly number[], filters: StoreFilters): Promise<Set<number>> {
    return this.search.admit(docIds, filters);
  }

  docTexts(docIds: readonly number[]): Promise<Map<number, string>> {
    return this.search.docTexts(docIds);
  }

  docSpeakers(docIds: readonly number[]): Promise<Map<number, string>> {
    return this.search.docSpeakers(docIds);
  }

  speakerNames(after: number): Promise<{ names: string[]; through: number }> {
    return this.search.speakerNames(after);
  }

  describeDocs(docIds: readonly number[]): Promise<DocView[]> {
    return this.search.describeDocs(docIds);
  }

  scopeSize(filters: StoreFilters): Promise<{ docs: number; share: number }> {
    return this.search.scopeSize(filters);
  }

  filterDocIds(filters: StoreFilters): Promise<number[]> {
    return this.search.filterDocIds(filters);
  }

  stats(): Promise<StoreStats> {
    return storeStats(this.pool, this.schema);
  }

  vectorsOf(docIds: readonly number[], modelKey: string): Promise<Array<{ doc_id: number; vector: Uint8Array }>> {
    return this.vectorReads.vectorsOf(docIds, modelKey);
  }

  /** See VectorRecords.nearest. */
  nearest(modelKey: string, vector: Float32Array, filters: StoreFilters, k: number): Promise<Array<{ doc_id: number; similarity: number }>> {
    return this.vectorReads.nearest(modelKey, vector, filters, k);
  }

  similarities(modelKey: string, vector: Float32Array, docIds: readonly number[]): Promise<Array<{ doc_id: number; similarity: number }>> {
    return this.vectorReads.similarities(modelKey, vector, docIds);
  }

  docsWithoutVector(modelKey: string, limit: number, afterDocId = 0): Promise<Array<{ doc_id: number; text: string }>> {
    return this.vectorReads.docsWithoutVector(modelKey, limit, afterDocId);
  }

  embeddingProgress(modelKey: string): Promise<{ docs: number; embedded: number }> {
    return this.vectorReads.embeddingProgress(modelKey);
  }

  async setVectors(vectors: ReadonlyArray<{ doc_id: number; vector: EmbeddedVector }>): Promise<void> {
    await this.write(async (tx) => {
      for (const { doc_id, vector } of vectors) {
        // A record deleted since it was read for embedding keeps no vector.
        if ((await tx.query('SELECT 1 FROM search_docs WHERE doc_id = $1', [doc_id])).length > 0) await this.docs.setVector(tx, doc_id, vector);
      }
    });
  }

  acquireLease(name: string, ttlMs: number): Promise<boolean> {
    return acquireLease(this.pool, name, ttlMs);
  }

  releaseLease(name: string): Promise<void> {
    return releaseLease(this.pool, name);
  }

  async registerModel(model: { key: string; id: string; dimension: number; fingerprint: string }): Promise<boolean> {
    await this.vectorReads.ensureIndex(model);
    const inserted = await query(
      this.pool,
      'INSERT INTO embedding_models (model_key, model_id, dimension, fingerprint, first_used) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING model_key',
      [model.key, model.id, model.dimension, model.fingerprint, new Date().toISOString()],
    );
    return inserted.length > 0;
  }

  /** A row that need not be durable (`durable` false) is committed without waiting for the disk (see AuditLog). */
  async appendAudit(row: AuditRow, durable = true): Promise<number> {
    return this.audit.append(row, durable);
  }

  async completeAudit(seq: number, row: AuditRow, durable = true): Promise<void> {
    await this.audit.complete(seq, row, durable);
  }

  exportAudit(since?: string): AsyncIterable<AuditRow> {
    return this.audit.export(since);
  }

  readAudit(auditQuery: AuditQuery): Promise<NumberedAuditRow[]> {
    return this.audit.read(auditQuery);
  }

  memoryTimeline(since: string, namespaces: readonly string[] | null): Promise<Array<{ day: string; layer: Memory['layer']; count: number }>> {
    return memoryTimeline(this.pool, since, namespaces);
  }

  exportRecords(namespace?: string): AsyncIterable<ExportRecord> {
    return exportRecords(this.pool, this.goals, namespace);
  }

  async restoreGoal(goal: GoalSnapshot, indexed: IndexedText, steps: ReadonlyMap<string, IndexedText>): Promise<boolean> {
    return this.write((tx) => this.goals.restore(tx, goal, indexed, steps));
  }

  async restoreOutcome(outcome: Outcome): Promise<boolean> {
    return this.write(async (tx) => {
      const stored = await this.goals.restoreOutcome(tx, outcome);
      if (stored) await evidenceRecords.add(tx, outcome, []);
      return stored;
    });
  }

  async restoreEvidence(rows: readonly EvidenceRecord[]): Promise<number> {
    return this.write((tx) => evidenceRecords.restore(tx, rows));
  }

  async keywordIndexMark(): Promise<string> {
    return keywordIndexMark(this.pool);
  }

  async rewriteKeywordIndex(texts: ReadonlyMap<string, KeywordText>, mark: string, version: number): Promise<number | null> {
    return this.write((tx) => rewriteKeywordIndex(tx, texts, mark, version));
  }

  async keywordTextVersion(): Promise<number | null> {
    return keywordTextVersion(this.pool);
  }

  async adoptKeywordTextVersion(version: number): Promise<void> {
    if ((await keywordTextVersion(this.pool)) === null) await adoptKeywordTextVersion(this.pool, version);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
    this.tokenizer.close();
  }
}

async function connectOrWait(pool: pg.Pool, options: PostgresStoreOptions): Promise<pg.PoolClient> {
  const deadline = Date.now() + (options.waitForDatabaseMs ?? 0);
  for (;;) {
    try {
      return await pool.connect();
    } catch (error) {
      if (!isUnavailable(error) || Date.now() >= deadline) {
        const reason = (error as Error).message.split('\n')[0];
        throw new StartupError(`cannot reach PostgreSQL at ${redactDatabaseUrl(options.url)}: ${reason}`, { cause: error });
      }
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
  }
}
