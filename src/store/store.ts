import type { IdempotencyClaim } from '../domain/errors.js';
import type { EvidenceRecord, Reinforcement, TrackRecord } from '../domain/evidence.js';
import type { GoalStatus, Goal, GoalSummary, Outcome, Priority, Step, StepStatus } from '../domain/goal.js';
import type { EmbeddedVector, IndexedText } from '../domain/indexed-text.js';
import type { Memory } from '../domain/memory.js';
import type { Provenance } from '../domain/provenance.js';
import type { AuditQuery, AuditRow, NumberedAuditRow } from './audit-query.js';
import type { DocView, KeywordHit, KeywordQuery, RecentQuery, StoreFilters, WindowHit } from './search-queries.js';

/**
 * The storage seam, implemented by SQLite (the embedded default) and
 * PostgreSQL. Every write method is one atomic unit: it either commits whole
 * or changes nothing. Callers validate input; the store trusts it.
 */
export interface MemoryStore {
  /** Insert memories, and mark the memories they supersede. Atomic over the batch. */
  insertMemories(items: readonly NewMemory[], claim?: IdempotencyClaim): Promise<void>;
  getMemories(ids: readonly string[]): Promise<Memory[]>;
  /** Delete memories; returns the ids that existed and were removed. */
  deleteMemories(ids: readonly string[], claim?: IdempotencyClaim): Promise<string[]>;
  /** Memories held for review (see domain/memory.ts `held`), oldest first; optionally of one namespace. */
  heldMemories(namespace?: string): Promise<Memory[]>;
  /**
   * Approve a held memory: its full-text entry and vector (`indexed`) are
   * written, its doc shown, and the memory it names in `supersedes` (if still
   * there and not corrected by another) is corrected by it. Atomic. False,
   * changing nothing, when the memory is not stored or not held.
   */
  approveMemory(id: string, indexed: IndexedText, now: string): Promise<boolean>;

  createGoal(goal: GoalRecord, indexed: IndexedText, plan: PlanRecord | null, claim?: IdempotencyClaim): Promise<void>;
  updateGoal(update: GoalUpdate, claim?: IdempotencyClaim): Promise<void>;
  getGoal(id: string): Promise<Goal | undefined>;
  listGoals(query: GoalListQuery): Promise<GoalSummary[]>;
  /** Active goals of a namespace, for duplicate detection. */
  activeGoalTitles(namespace: string): Promise<Array<{ id: string; title: string; description: string | null }>>;

  /**
   * Store an outcome, its memories and the status changes it implies, and
   * strengthen the memories it said again (`reinforced`: one more outcome in
   * each one's metadata.evidence, see domain/evidence.ts; updated_at moves),
   * atomically. A memory to strengthen that is gone refuses the whole write.
   * In the same transaction, the outcome's evidence: each memory in its
   * lesson_memory_ids came from it, each one in `recalled` (procedural
   * memories recalled for the goal it decides) was recalled before it, one
   * row per (memory, outcome); a recalled memory no longer stored, or
   * already recalled for the same goal, gets none.
   */
  recordOutcome(outcome: Outcome, memories: readonly NewMemory[], change: GoalUpdate, claim?: IdempotencyClaim, reinforced?: readonly Reinforcement[], recalled?: readonly string[]): Promise<void>;
  /**
   * The track record (see domain/evidence.ts) of each of these memories that
   * has evidence; the others are not in the map. One indexed read. A memory
   * forgotten loses its evidence; a restored outcome gives its lessons theirs.
   */
  trackRecords(memoryIds: readonly string[]): Promise<Map<string, TrackRecord>>;

  /** The first call made with an idempotency key, if any (see IdempotencyRows). */
  findIdempotent(key: string): Promise<{ tool: string; args_sha256: string; result: unknown } | undefined>;
  recordIdempotentResult(key: string, result: unknown): Promise<void>;

  searchKeyword(query: KeywordQuery): Promise<KeywordHit[]>;
  /**
   * BM25 over windows of three adjacent thread memories (the one before, the
   * memory, the one after); each hit's doc_id is the window's middle memory.
   */
  searchWindows(query: KeywordQuery): Promise<WindowHit[]>;
  /** Records that pass the filters, newest first: what an empty query returns. */
  recent(query: RecentQuery): Promise<KeywordHit[]>;
  /**
   * Thread neighbours of the given docs: up to `radius` visible docs before
   * and after each one in its thread's order (offset -radius…radius, never 0).
   */
  threadNeighbours(docIds: readonly number[], radius: number): Promise<Array<{ center: number; doc_id: number; offset: number }>>;
  /** The subset of doc ids that pass the filters (visible ones unless the filters include superseded). */
  admit(docIds: readonly number[], filters: StoreFilters): Promise<Set<number>>;
  /** The searchable text of each doc (content of a memory, title and details of a goal or step). */
  docTexts(docIds: readonly number[]): Promise<Map<number, string>>;
  /** Who said or wrote each memory (its metadata's `speaker`, else `author`), for those that name one. */
  docSpeakers(docIds: readonly number[]): Promise<Map<number, string>>;
  /**
   * Every speaker or author name memories have carried, each once, in the
   * order first seen: those after position `after` (0: from the start), and
   * the position to ask from next time. Names stay when their memories go.
   */
  speakerNames(after: number): Promise<{ names: string[]; through: number }>;
  /** Display data for search hits, in the order given. */
  describeDocs(docIds: readonly number[]): Promise<DocView[]>;

  stats(): Promise<StoreStats>;

  /**
   * Roughly how many visible memories the filters' namespace holds, and what
   * share of the store that is (all of it with no namespace; other filters are
   * not counted, so both are upper bounds). From counters, so it costs
   * nothing: searches use it to choose between listing a small scope and
   * filtering the best matches of a big one.
   */
  scopeSize(filters: StoreFilters): Promise<{ docs: number; share: number }>;
  /** Doc ids of visible records that pass the filters (for the vector leg's filtered search). */
  filterDocIds(filters: StoreFilters): Promise<number[]>;
  /** The stored vectors of these docs made by this model (what the vector index holds for them), raw float32 bytes; docs without one are left out. */
  vectorsOf(docIds: readonly number[], modelKey: string): Promise<Array<{ doc_id: number; vector: Uint8Array }>>;
  /** Records with no vector of this model yet, oldest first, with the text to embed; after `afterDocId`, a cursor so each batch starts where the last ended. */
  docsWithoutVector(modelKey: string, limit: number, afterDocId?: number): Promise<Array<{ doc_id: number; text: string }>>;
  /** Store vectors computed after the fact (re-embedding), atomically. */
  setVectors(vectors: ReadonlyArray<{ doc_id: number; vector: EmbeddedVector }>): Promise<void>;
  /** How many records there are, and how many have a vector of this model. */
  embeddingProgress(modelKey: string): Promise<{ docs: number; embedded: number }>;
  /** Take or renew a lease shared by every process on this store (see LeaseRows); false while another holds it. */
  acquireLease(name: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string): Promise<void>;
  /** Remember a model's identity; returns true the first time it is seen. */
  registerModel(model: { key: string; id: string; dimension: number; fingerprint: string }): Promise<boolean>;

  /**
   * Append one audit row and return its sequence number. `durable` (the
   * default) waits for the disk like any write; a call that changed nothing
   * passes false, and its row may wait up to a second for the next durable
   * commit (see AuditRows). Rejects when the row cannot be stored (the
   * database or its disk is full): the caller must not answer the call then.
   */
  appendAudit(row: AuditRow, durable?: boolean, reserve?: boolean): Promise<number>;
  /** Rewrite the outcome (status, ids, duration) of a row appended before its call ran. */
  completeAudit(seq: number, row: AuditRow, durable?: boolean): Promise<void>;
  exportAudit(since?: string): AsyncIterable<AuditRow>;
  /**
   * A page of the audit trail, newest first, filtered (see AuditQuery): what
   * the memory browser lists, and a record's access log (`touching`).
   */
  readAudit(query: AuditQuery): Promise<NumberedAuditRow[]>;
  /**
   * Memories stored per day (UTC, by created_at) and layer, since `since`,
   * in the given namespaces (null: all), superseded ones included; days in order.
   */
  memoryTimeline(since: string, namespaces: readonly string[] | null): Promise<Array<{ day: string; layer: Memory['layer']; count: number }>>;
  /**
   * Everything a backup holds, streamed from one read snapshot: goals with
   * every plan revision and step, then outcomes, then memories, each kind
   * oldest first, then the evidence of memories recalled for goals (by
   * memory and outcome id; the evidence from outcomes is theirs, given
   * again by restoreOutcome); optionally one namespace (its memories'). The snapshot is held until the
   * iteration ends, so the connection must do nothing else meanwhile.
   */
  exportRecords(namespace?: string): AsyncIterable<ExportRecord>;
  /**
   * Store an exported goal as it was (ids, plan revisions, step statuses,
   * times), indexed by `indexed` and each step's text by id; false, changing
   * nothing, when a goal with its id is stored already. Atomic.
   */
  restoreGoal(goal: GoalSnapshot, indexed: IndexedText, steps: ReadonlyMap<string, IndexedText>): Promise<boolean>;
  /** Store an exported outcome as it was, moving no status (those come with the goal); false when its id is stored already. */
  restoreOutcome(outcome: Outcome): Promise<boolean>;
  /** Store exported evidence rows as they were, those not stored already (by memory and outcome); returns how many were stored. Atomic. */
  restoreEvidence(rows: readonly EvidenceRecord[]): Promise<number>;

  /**
   * Where the keyword index stands: a mark that moves with every write that
   * adds, removes, hides, shows or indexes again a record (and with any
   * change to a goal or memory), so that texts computed from records read
   * after taking it are those of every record as long as it has not moved.
   */
  keywordIndexMark(): Promise<string>;
  /**
   * Write the keyword index again from nothing: each record not held for
   * review is indexed by `texts` (keyed by `keywordTextKey`), and the index's
   * statistics count the rows it holds now, no longer every row it ever held
   * (see docs/commands.md). One transaction, other writers waiting; returns
   * how many records were written, or null, changing nothing, when the mark
   * has moved since `mark` was taken. A record missing from `texts` fails it.
   * The store then knows `version` as the one its keyword text is written by.
   */
  rewriteKeywordIndex(texts: ReadonlyMap<string, KeywordText>, mark: string, version: number): Promise<number | null>;
  /** The version that wrote every record's keyword text (domain/keyword-text.ts); null when the store does not know (filled before it was kept). */
  keywordTextVersion(): Promise<number | null>;
  /** A store holding no record and knowing no version takes `version` as the one its keyword text is written by; any other store is left as it is. */
  adoptKeywordTextVersion(version: number): Promise<void>;

  close(): Promise<void>;
}

export interface GoalRecord extends Provenance {
  /** The injection detector's signals on its text when created ([]: none; null: not scanned); flagged only, never held. */
  injection: string[] | null;
  id: string;
  namespace: string;
  title: string;
  description: string | null;
  success_criteria: string[];
  priority: Priority;
  status: GoalStatus;
  tags: string[];
  metadata: Record<string, unknown>;
  parent_goal_id: string | null;
  source: string | null;
  created_at: string;
  updated_at: string;
}

/** A goal as stored, with every plan revision (oldest first) and each one's steps: what a backup keeps. */
export interface GoalSnapshot extends GoalRecord {
  /** The current plan's version; 0 without a plan. */
  plan_version: number;
  plans: Array<{ version: number; reason: string | null; created_at: string; steps: Step[] }>;
}

/** One record of a backup (see MemoryStore.exportRecords). */
export type ExportRecord = { type: 'goal'; goal: GoalSnapshot } | { type: 'outcome'; outcome: Outcome } | { type: 'memory'; memory: Memory } | { type: 'evidence'; evidence: EvidenceRecord };

/** What a record is found by in the keyword index: its text and extra keywords (no vector). */
export type KeywordText = Pick<IndexedText, 'text' | 'keywords'>;

/** A record's key in the texts given to rewriteKeywordIndex: its type and id (a step's id for a step). */
export const keywordTextKey = (type: 'memory' | 'goal' | 'step', entityId: string): string => `${type}:${entityId}`;

export interface StepRecord {
  id: string;
  position: number;
  title: string;
  detail: string | null;
  indexed: IndexedText;
}

export interface NewMemory {
  memory: Memory;
  indexed: IndexedText;
}

export interface PlanRecord {
  version: number;
  reason: string | null;
  created_at: string;
  steps: StepRecord[];
}

/** Changes to a goal; absent fields stay as they are. */
export interface GoalUpdate {
  id: string;
  updated_at: string;
  fields?: Partial<Pick<GoalRecord, 'title' | 'description' | 'success_criteria' | 'priority' | 'status' | 'tags' | 'metadata'>>;
  /** New search text and vector, when the fields it is built from changed. */
  indexed?: IndexedText;
  plan?: PlanRecord;
  steps?: Array<{ id: string; status: StepStatus; result_note: string | null }>;
}

export interface GoalListQuery {
  namespace: string | null;
  statuses: readonly GoalStatus[] | null;
  parent_goal_id?: string;
  limit: number;
}

export interface StoreStats {
  memories_total: number;
  by_layer: Record<string, number>;
  by_kind: Record<string, number>;
  by_namespace: Record<string, number>;
  superseded: number;
  /** Memories held for review (injected instructions): counted, never shown here. */
  held_for_review: number;
  goals_by_status: Record<string, number>;
  outcomes: number;
  audit_rows: number;
  database_bytes: number;
  schema_version: number;
}

// Kept importable from here, the storage seam's one entry point.
export type { AuditQuery, AuditRow, NumberedAuditRow } from './audit-query.js';
export { admitsAllVisible, BROAD_SCOPE_SHARE, type DocView, type KeywordHit, type KeywordQuery, type NearestVectors, type RecentQuery, type StoreFilters, type WindowHit } from './search-queries.js';
