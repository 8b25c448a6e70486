import type { Database } from 'better-sqlite3';
import type { EvidenceRecord, Reinforcement, TrackRecord } from '../../domain/evidence.js';
import type { IdempotencyClaim } from '../../domain/errors.js';
import type { Goal, GoalSummary, Outcome } from '../../domain/goal.js';
import type { EmbeddedVector, IndexedText } from '../../domain/indexed-text.js';
import type { Memory } from '../../domain/memory.js';
import type { VectorLog } from '../../domain/vector-log.js';
import type {
  AuditQuery,
  AuditRow,
  DocView,
  ExportRecord,
  GoalListQuery,
  GoalSnapshot,
  GoalRecord,
  GoalUpdate,
  KeywordHit,
  KeywordQuery,
  WindowHit,
  KeywordText,
  MemoryStore,
  NewMemory,
  NumberedAuditRow,
  PlanRecord,
  RecentQuery,
  StoreFilters,
  StoreStats,
} from '../store.js';
import { AuditRows } from './audit-rows.js';
import { WriteLock } from './write-lock.js';
import { storeStats } from './store-stats.js';
import { Bm25Scorer } from './bm25.js';
import { CountedRowChanges } from './doc-lengths.js';
import { FtsRowLog } from './fts-row-log.js';
import { openDatabase } from './database.js';
import type { PageQuota } from './page-quota.js';
import { GoalRows } from './goal-rows.js';
import { IdempotencyRows } from './idempotency-rows.js';
import { LeaseRows } from './lease-rows.js';
import { MemoryRows } from './memory-rows.js';
import { KeywordIndexRewrite } from './keyword-rewrite.js';
import { SearchDocs } from './search-docs.js';
import { filterSql } from './filter-sql.js';
import { SpeakerRows } from './speaker-rows.js';
import { DocViews } from './doc-views.js';
import { EvidenceRows } from './evidence-rows.js';
import { SearchRows, type Bm25Scorers } from './search-rows.js';
import { ThreadWindows } from './thread-windows.js';
import { VectorRows } from './vector-rows.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  file: string;
  busyTimeoutMs: number;
  /** Refuse writes past this database size (a quota, and how tests simulate a full disk). */
  maxBytes?: number | undefined;
  /** Of that size, what only the audit trail may use (see page-quota.ts); default 5 %, at least 256 KiB. */
  auditReserveBytes?: number | undefined;
  /** Rows a keyword query may score (see term-budget.ts); tests set it small. */
  keywordRowBudget?: number | undefined;
  /** SQLite page cache per connection (see database.ts). */
  cacheMb?: number | undefined;
}

/** Goals read per query while exporting (each with its plans and steps). */
const GOAL_PAGE = 200;

/** The embedded backend: one SQLite file in WAL mode. */
export class SqliteStore implements MemoryStore {
  private readonly memories: MemoryRows;
  private readonly goals: GoalRows;
  private readonly search: SearchRows;
  private readonly views: DocViews;
  private readonly speakers: SpeakerRows;
  private readonly audit: AuditRows;
  private readonly lock: WriteLock;
  private readonly idempotency: IdempotencyRows;
  private readonly evidence: EvidenceRows;
  /** The change log and vectors, as the vector index reads them. */
  readonly vectorLog: VectorLog;
  private readonly vectors: VectorRows;
  private readonly scorers: Bm25Scorers;
  private readonly keywordRewrite: KeywordIndexRewrite;

  private constructor(
    private readonly db: Database,
    private readonly file: string,
    quota: PageQuota | null,
    busyTimeoutMs: number,
    keywordRowBudget?: number,
  ) {
    this.lock = new WriteLock(db, busyTimeoutMs);
    this.scorers = { search_fts: Bm25Scorer.for(db, 'search_fts'), window_fts: Bm25Scorer.for(db, 'window_fts') };
    // Logged for other processes (fts-row-log.ts), then told to this one's lengths.
    const docChanges = new CountedRowChanges(new FtsRowLog(db, 'search_fts', this.scorers.search_fts?.lengths));
    const windowChanges = new CountedRowChanges(new FtsRowLog(db, 'window_fts', this.scorers.window_fts?.lengths));
    const docs = new SearchDocs(db, docChanges);
    this.keywordRewrite = new KeywordIndexRewrite(db, docChanges);
    this.evidence = new EvidenceRows(db);
    this.memories = new MemoryRows(db, docs, new ThreadWindows(db, windowChanges), this.evidence);
    this.goals = new GoalRows(db, docs);
    this.search = new SearchRows(db, this.scorers, keywordRowBudget, () => docChanges.count + windowChanges.count);
    this.views = new DocViews(db);
    this.speakers = new SpeakerRows(db);
    this.audit = new AuditRows(db, this.lock, quota);
    this.idempotency = new IdempotencyRows(db);
    this.vectors = new VectorRows(db, docs, new LeaseRows(db));
    this.vectorLog = this.vectors;
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    const { db, quota } = openDatabase(options.file, options.busyTimeoutMs, options.maxBytes, options.cacheMb, options.auditReserveBytes);
    return new SqliteStore(db, options.file, quota, options.busyTimeoutMs, options.keywordRowBudget);
  }

  /** One write transaction (the lock waited for between other calls), claiming its idempotency key first and noting what it made last. */
  private write<T>(claim: IdempotencyClaim | undefined, work: () => T): Promise<T> {
    return this.lock.run(() => {
      this.idempotency.claim(claim);
      const returned = work();
      this.idempotency.recordMade(claim, returned);
      return returned;
    });
  }

  async insertMemories(items: readonly NewMemory[], claim?: IdempotencyClaim): Promise<void> {
    await this.write(claim, () => {
      for (const item of items) this.memories.add(item.memory, item.indexed);
    });
  }

  async getMemories(ids: readonly string[]): Promise<Memory[]> {
    return ids.flatMap((id) => {
      const memory = this.memories.get(id);
      return memory ? [memory] : [];
    });
  }

  async deleteMemories(ids: readonly string[], claim?: IdempotencyClaim): Promise<string[]> {
    const now = new Date().toISOString();
    return this.write(claim, () => ids.filter((id) => this.memories.remove(id, now)));
  }

  async heldMemories(namespace?: string): Promise<Memory[]> {
    return this.memories.held(namespace);
  }

  async approveMemory(id: string, indexed: IndexedText, now: string): Promise<boolean> {
    return this.write(undefined, () => this.memories.approve(id, indexed, now));
  }

  async createGoal(goal: GoalRecord, indexed: IndexedText, plan: PlanRecord | null, claim?: IdempotencyClaim): Promise<void> {
    await this.write(claim, () => this.goals.create(goal, indexed, plan));
  }

  async updateGoal(update: GoalUpdate, claim?: IdempotencyClaim): Promise<void> {
    await this.write(claim, () => this.goals.update(update));
  }

  async getGoal(id: string): Promise<Goal | undefined> {
    return this.goals.get(id);
  }

  async listGoals(query: GoalListQuery): Promise<GoalSummary[]> {
    return this.goals.list(query);
  }

  async activeGoalTitles(namespace: string): Promise<Array<{ id: string; title: string; description: string | null }>> {
    return this.goals.activeGoalTitles(namespace);
  }

  async recordOutcome(outcome: Outcome, memories: readonly NewMemory[], change: GoalUpdate, claim?: IdempotencyClaim, reinforced: readonly Reinforcement[] = [], recalled: readonly string[] = []): Promise<void> {
    await this.write(claim, () => {
      for (const r of reinforced) this.memories.reinforce(r);
      for (const item of memories) this.memories.add(item.memory, item.indexed);
      this.goals.insertOutcome(outcome);
      this.goals.update(change);
      this.evidence.add(outcome, recalled);
    });
  }

  async keywordIndexMark(): Promise<string> {
    return this.keywordRewrite.mark();
  }

  async rewriteKeywordIndex(texts: ReadonlyMap<string, KeywordText>, mark: string, version: number): Promise<number | null> {
    return this.write(undefined, () => this.keywordRewrite.rewrite(texts, mark, version));
  }

  async keywordTextVersion(): Promise<number | null> {
    return this.keywordRewrite.version();
  }

  async adoptKeywordTextVersion(version: number): Promise<void> {
    if (this.keywordRewrite.version() === null) await this.write(undefined, () => this.keywordRewrite.adopt(version));
  }

  async trackRecords(memoryIds: readonly string[]): Promise<Map<string, TrackRecord>> {
    return this.evidence.trackRecords(memoryIds);
  }

  /**
   * Read every full-text row's length into memory in the background (a
   * million take about a second, in slices between requests); until then
   * keyword search is scored by FTS5 itself. Starts on the first search otherwise.
   */
  prepareKeywordScoring(): Promise<void> {
    return Promise.all([this.scorers.search_fts?.lengths.load(), this.scorers.window_fts?.lengths.load()]).then(() => undefined);
  }

  async searchKeyword(query: KeywordQuery): Promise<KeywordHit[]> {
    return this.search.keyword(query);
  }

  async docTexts(docIds: readonly number[]): Promise<Map<number, string>> {
    return this.views.docTexts(docIds);
  }

  async docSpeakers(docIds: readonly number[]): Promise<Map<number, string>> {
    return this.speakers.ofDocs(docIds);
  }

  async speakerNames(after: number): Promise<{ names: string[]; through: number }> {
    return this.speakers.namesAfterPosition(after);
  }

  async searchWindows(query: KeywordQuery): Promise<WindowHit[]> {
    return this.search.windows(query);
  }

  async recent(query: RecentQuery): Promise<KeywordHit[]> {
    return this.search.recent(query);
  }

  async threadNeighbours(docIds: readonly number[], radius: number): Promise<Array<{ center: number; doc_id: number; offset: number }>> {
    return this.search.threadNeighbours(docIds, radius);
  }

  async scopeSize(filters: StoreFilters): Promise<{ docs: number; share: number }> {
    return this.search.scopeSize(filters);
  }

  async admit(docIds: readonly number[], filters: StoreFilters): Promise<Set<number>> {
    return this.search.admit(docIds, filters);
  }

  async describeDocs(docIds: readonly number[]): Promise<DocView[]> {
    return this.views.describeDocs(docIds);
  }

  async stats(): Promise<StoreStats> {
    return storeStats(this.db, this.file);
  }

  async filterDocIds(filters: StoreFilters): Promise<number[]> {
    const where = filterSql({ ...filters, include_superseded: false });
    return (this.db.prepare(`SELECT d.doc_id FROM search_docs d WHERE ${where.sql}`).pluck().all(...where.params) as number[]);
  }

  async vectorsOf(docIds: readonly number[], modelKey: string): Promise<Array<{ doc_id: number; vector: Uint8Array }>> {
    return this.vectors.vectorsOf(docIds, modelKey);
  }

  async docsWithoutVector(modelKey: string, limit: number, afterDocId?: number): Promise<Array<{ doc_id: number; text: string }>> {
    return this.vectors.docsWithoutVector(modelKey, limit, afterDocId);
  }

  async setVectors(vectors: ReadonlyArray<{ doc_id: number; vector: EmbeddedVector }>): Promise<void> {
    await this.lock.run(() => this.vectors.setVectors(vectors));
  }

  async embeddingProgress(modelKey: string): Promise<{ docs: number; embedded: number }> {
    return this.vectors.embeddingProgress(modelKey);
  }

  async acquireLease(name: string, ttlMs: number): Promise<boolean> {
    return this.lock.run(() => this.vectors.acquireLease(name, ttlMs));
  }

  async releaseLease(name: string): Promise<void> {
    await this.lock.run(() => this.vectors.releaseLease(name));
  }

  async registerModel(model: { key: string; id: string; dimension: number; fingerprint: string }): Promise<boolean> {
    return this.vectors.registerModel(model);
  }

  async findIdempotent(key: string): Promise<{ tool: string; args_sha256: string; result: unknown } | undefined> {
    return this.idempotency.find(key);
  }

  async recordIdempotentResult(key: string, result: unknown): Promise<void> {
    await this.lock.run(() => this.idempotency.recordResult(key, result));
  }

  async appendAudit(row: AuditRow, durable = true, reserve = true): Promise<number> {
    return this.audit.append(row, durable, reserve);
  }

  async completeAudit(seq: number, row: AuditRow, durable = true): Promise<void> {
    await this.audit.complete(seq, row, durable);
  }

  async *exportRecords(namespace?: string): AsyncIterable<ExportRecord> {
    // One read transaction: a goal's steps, its outcomes and their memories agree even while servers write.
    if (this.db.inTransaction) throw new Error('exportRecords needs a connection of its own: a transaction is open');
    this.db.exec('BEGIN');
    try {
      for (let after = '', page = this.goals.snapshots(after, namespace, GOAL_PAGE); page.length > 0; page = this.goals.snapshots(after, namespace, GOAL_PAGE)) {
        for (const goal of page) yield { type: 'goal', goal };
        after = page[page.length - 1]!.id;
      }
      for (const outcome of this.goals.allOutcomes(namespace)) yield { type: 'outcome', outcome };
      for (const memory of this.memories.all(namespace)) yield { type: 'memory', memory };
      for (const evidence of this.evidence.allRecalled(namespace)) yield { type: 'evidence', evidence };
    } finally {
      this.db.exec('COMMIT');
    }
  }

  async restoreGoal(goal: GoalSnapshot, indexed: IndexedText, steps: ReadonlyMap<string, IndexedText>): Promise<boolean> {
    return this.lock.run(() => this.goals.restore(goal, indexed, steps));
  }

  async restoreOutcome(outcome: Outcome): Promise<boolean> {
    return this.lock.run(() => {
      const stored = this.goals.restoreOutcome(outcome);
      if (stored) this.evidence.add(outcome, []);
      return stored;
    });
  }

  async restoreEvidence(rows: readonly EvidenceRecord[]): Promise<number> {
    return this.lock.run(() => this.evidence.restore(rows));
  }

  async *exportAudit(since?: string): AsyncIterable<AuditRow> {
    yield* this.audit.export(since);
  }

  async readAudit(query: AuditQuery): Promise<NumberedAuditRow[]> {
    return this.audit.read(query);
  }

  async memoryTimeline(since: string, namespaces: readonly string[] | null): Promise<Array<{ day: string; layer: Memory['layer']; count: number }>> {
    if (namespaces?.length === 0) return [];
    const inNamespaces = namespaces ? ` AND namespace IN (${namespaces.map(() => '?').join(', ')})` : '';
    return this.db
      .prepare(`SELECT substr(created_at, 1, 10) AS day, layer, COUNT(*) AS count FROM memories
        WHERE created_at >= ?${inNamespaces} GROUP BY day, layer ORDER BY day, layer`)
      .all(since, ...(namespaces ?? [])) as Array<{ day: string; layer: Memory['layer']; count: number }>;
  }

  async close(): Promise<void> {
    this.scorers.search_fts?.close();
    this.scorers.window_fts?.close();
    if (this.db.open) this.db.close();
  }
}
