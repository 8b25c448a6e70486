import type { IdempotencyClaim } from '../../src/domain/errors.js';
import type { Outcome, Step } from '../../src/domain/goal.js';
import { newId } from '../../src/domain/ids.js';
import type { EmbeddedVector, IndexedText } from '../../src/domain/indexed-text.js';
import type { Memory } from '../../src/domain/memory.js';
import type { AuditRow, GoalRecord, MemoryStore, NewMemory, PlanRecord, StepRecord, StoreFilters } from '../../src/store/store.js';

/**
 * Builders for what the contract stores: every record complete, with the
 * defaults the callers in src/memory/ would give, so a test names only what
 * it is about. Times come from a clock that moves one second a call, so
 * records written one after another are ordered by time as by id.
 */

const START = Date.UTC(2025, 0, 1);
let tick = 0;

/** The next instant, one second after the last (ISO 8601, UTC, milliseconds: as the callers store times). */
export function nextTime(): string {
  tick += 1;
  return new Date(START + tick * 1000).toISOString();
}

/** A fixed day at noon, for records whose time a test compares: `day(3)` is 2024-03-03. */
export const day = (n: number): string => new Date(Date.UTC(2024, 2, n, 12)).toISOString();

export const vector = (modelKey: string, ...values: number[]): EmbeddedVector => ({ modelKey, values: Float32Array.from(values) });

export const indexed = (text: string, options: { vector?: EmbeddedVector | null; keywords?: string } = {}): IndexedText => ({
  text,
  vector: options.vector ?? null,
  ...(options.keywords === undefined ? {} : { keywords: options.keywords }),
});

/** A memory as remember() builds it: the namespace "alpha" unless told, stored now. */
export function memory(fields: Partial<Memory> & { content: string }): Memory {
  const now = nextTime();
  return {
    id: newId(),
    layer: 'semantic',
    kind: 'note',
    tags: [],
    metadata: {},
    importance: 0.5,
    namespace: 'alpha',
    source: 'contract',
    goal_id: null,
    occurred_at: now,
    created_at: now,
    updated_at: now,
    supersedes: null,
    superseded_by: null,
    thread_id: null,
    thread_position: null,
    origin: 'agent',
    origin_ref: null,
    written_by: 'local',
    injection: null,
    held: false,
    ...fields,
  };
}

/** A memory with what the store indexes: its content unless `text` says otherwise. */
export function newMemory(fields: Partial<Memory> & { content: string }, index: { text?: string; vector?: EmbeddedVector | null; keywords?: string } = {}): NewMemory {
  const made = memory(fields);
  return { memory: made, indexed: indexed(index.text ?? made.content, index) };
}

/** Store memories one batch at a time; returns them as stored (the store may fill in thread positions). */
export async function remember(store: MemoryStore, ...items: NewMemory[]): Promise<Memory[]> {
  await store.insertMemories(items);
  const stored = await store.getMemories(items.map((item) => item.memory.id));
  return items.map((item) => stored.find((m) => m.id === item.memory.id)!);
}

export function goalRecord(fields: Partial<GoalRecord> & { title: string }): GoalRecord {
  const now = nextTime();
  return {
    injection: null,
    id: newId(),
    namespace: 'alpha',
    description: null,
    success_criteria: [],
    priority: 'normal',
    status: 'active',
    tags: [],
    metadata: {},
    parent_goal_id: null,
    source: 'contract',
    created_at: now,
    updated_at: now,
    origin: 'agent',
    origin_ref: null,
    written_by: 'local',
    ...fields,
  };
}

export function stepRecord(position: number, title: string, detail: string | null = null, vectorOf: EmbeddedVector | null = null): StepRecord {
  return { id: newId(), position, title, detail, indexed: indexed(detail ? `${title}\n${detail}` : title, { vector: vectorOf }) };
}

export function planRecord(version: number, steps: StepRecord[], reason: string | null = null): PlanRecord {
  return { version, reason, created_at: nextTime(), steps };
}

/** The text a goal is indexed by, as goals.ts builds it. */
export const goalText = (goal: Pick<GoalRecord, 'title' | 'description' | 'success_criteria'>): string =>
  [goal.title, goal.description ?? '', ...goal.success_criteria].filter(Boolean).join('\n');

/** Create a goal (with a plan of these step titles, if any) and return its record and plan. */
export async function createGoal(
  store: MemoryStore,
  fields: Partial<GoalRecord> & { title: string },
  steps: string[] = [],
): Promise<{ goal: GoalRecord; plan: PlanRecord | null }> {
  const goal = goalRecord(fields);
  const plan = steps.length ? planRecord(1, steps.map((title, i) => stepRecord(i + 1, title))) : null;
  await store.createGoal(goal, indexed(goalText(goal)), plan);
  return { goal, plan };
}

export function outcomeOf(goalId: string, summaryMemoryId: string, fields: Partial<Outcome> = {}): Outcome {
  return {
    injection: null,
    id: newId(),
    goal_id: goalId,
    step_id: null,
    result: 'success',
    summary: 'it went well',
    lessons: [],
    metrics: {},
    summary_memory_id: summaryMemoryId,
    lesson_memory_ids: [],
    origin: 'agent',
    origin_ref: null,
    written_by: 'local',
    created_at: nextTime(),
    ...fields,
  };
}

export const claim = (key: string, tool = 'remember', argsSha256 = 'a'.repeat(64)): IdempotencyClaim => ({ key, tool, argsSha256 });

/** Filters as search.ts builds them: all namespaces, visible records, by occurred_at, unless told. */
export const filters = (fields: Partial<StoreFilters> = {}): StoreFilters => ({
  namespace: null,
  time_field: 'occurred_at',
  include_superseded: false,
  ...fields,
});

export function auditRow(fields: Partial<AuditRow> = {}): AuditRow {
  return {
    at: nextTime(),
    tool: 'remember',
    namespace: 'alpha',
    client_name: 'contract-client',
    client_version: '1.0.0',
    session_id: 'session-1',
    args_sha256: 'b'.repeat(64),
    args_bytes: 42,
    status: 'ok',
    error_code: null,
    duration_ms: 3,
    ids_touched: [],
    ids_returned: [],
    principal_id: 'local',
    tenant: 'local',
    remote_address: null,
    ...fields,
  };
}

/** Everything an iterable yields, sync or async: the export methods may become async iterables. */
export async function collect<T>(items: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Every record the store can show (hidden ones too), by entity id: memory, goal and step ids to their doc ids. */
export async function docIds(store: MemoryStore): Promise<Map<string, number>> {
  const hits = await store.recent({ filters: filters({ include_superseded: true }), limit: 100_000 });
  const views = await store.describeDocs(hits.map((hit) => hit.doc_id));
  return new Map(views.map((view) => [view.entity_id, view.doc_id]));
}

/** The doc id of each of these entities, in order (throws for one the store does not show). */
export async function docIdsOf(store: MemoryStore, ...entityIds: string[]): Promise<number[]> {
  const index = await docIds(store);
  return entityIds.map((id) => {
    const doc = index.get(id);
    if (doc === undefined) throw new Error(`no search doc for ${id}`);
    return doc;
  });
}

/** The entity ids of these hits, in order. */
export async function entitiesOf(store: MemoryStore, hits: ReadonlyArray<{ doc_id: number }>): Promise<string[]> {
  const views = new Map((await store.describeDocs(hits.map((hit) => hit.doc_id))).map((view) => [view.doc_id, view.entity_id]));
  return hits.map((hit) => views.get(hit.doc_id) ?? `missing doc ${hit.doc_id}`);
}

/** A step as getGoal shows it, fresh from a plan: pending, no note, dated when the plan was made. */
export const pendingStep = (step: StepRecord, plan: PlanRecord): Step => ({
  id: step.id,
  position: step.position,
  title: step.title,
  detail: step.detail,
  status: 'pending',
  result_note: null,
  updated_at: plan.created_at,
});

/** Raw float32 bytes of a vector, as vectorsOf returns them. */
export const float32Bytes = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

export const sorted = <T>(items: Iterable<T>): T[] => [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
