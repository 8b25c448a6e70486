import type { IndexedText } from '../domain/indexed-text.js';
import type { Memory } from '../domain/memory.js';
import type { RecordType } from '../domain/search.js';
import { isFlagged } from '../domain/trust.js';
import type { GoalRecord } from './store.js';

/**
 * What search knows of a record, whatever the backend: its filter columns
 * (one `search_docs` row), its tags, and where it sits in a thread. Both
 * backends build their docs here, so a record is found by the same filters
 * on either.
 */
export interface NewDoc {
  type: RecordType;
  entity_id: string;
  namespace: string;
  layer: string | null;
  kind: string;
  goal_id: string | null;
  occurred_at: string;
  created_at: string;
  hidden: boolean;
  tags: readonly string[];
  thread_id?: string | null;
  thread_position?: number | null;
  /** Where its text came from (a step's: its goal's); null: not recorded. */
  origin: string | null;
  /**
   * Held for review (a memory only): hidden, and hidden from include_superseded
   * too; stored with no full-text entry and no vector until approved.
   */
  held?: boolean;
  /** The injection detector flagged its text (a step: its goal's): low trust, left out by min_trust. */
  flagged: boolean;
}

/** A memory's doc: hidden once superseded, or while held for review. */
export const memoryDoc = (memory: Memory): NewDoc => ({
  type: 'memory',
  entity_id: memory.id,
  namespace: memory.namespace,
  layer: memory.layer,
  kind: memory.kind,
  goal_id: memory.goal_id,
  occurred_at: memory.occurred_at,
  created_at: memory.created_at,
  hidden: memory.superseded_by !== null || memory.held,
  tags: memory.tags,
  thread_id: memory.thread_id,
  thread_position: memory.thread_position,
  origin: memory.origin,
  held: memory.held,
  flagged: isFlagged(memory.injection),
});

/** A goal's doc: dated when it was made. */
export const goalDoc = (goal: Pick<GoalRecord, 'id' | 'namespace' | 'created_at' | 'tags' | 'origin' | 'injection'>): NewDoc => ({
  type: 'goal',
  entity_id: goal.id,
  namespace: goal.namespace,
  layer: null,
  kind: 'goal',
  goal_id: goal.id,
  occurred_at: goal.created_at,
  created_at: goal.created_at,
  hidden: false,
  tags: goal.tags,
  origin: goal.origin,
  flagged: isFlagged(goal.injection),
});

/** What a step's doc takes from its goal. */
export interface StepGoal {
  id: string;
  namespace: string;
  tags: readonly string[];
  origin: string | null;
  injection: readonly string[] | null;
}

/** A plan step's doc: in its goal's namespace, with its goal's tags, dated when its plan was made. */
export const stepDoc = (goal: StepGoal, stepId: string, planCreatedAt: string, hidden: boolean): NewDoc => ({
  type: 'step',
  entity_id: stepId,
  namespace: goal.namespace,
  layer: null,
  kind: 'step',
  goal_id: goal.id,
  occurred_at: planCreatedAt,
  created_at: planCreatedAt,
  hidden,
  tags: goal.tags,
  origin: goal.origin,
  flagged: isFlagged(goal.injection),
});

/** The keyword text of a record: its text and its extra keywords. */
export const ftsBody = (indexed: Pick<IndexedText, 'text' | 'keywords'>): string => (indexed.keywords ? `${indexed.text}\n${indexed.keywords}` : indexed.text);

/** Float32 values as the bytes stored in `doc_vectors.vector`. */
export const vectorBytes = (values: Float32Array): Buffer => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
