import { MemoryError } from './errors.js';
import type { OutcomeResult } from './goal.js';

/** Outcome ids a lesson's evidence keeps, newest last. */
export const EVIDENCE_OUTCOME_IDS = 20;

/**
 * What a lesson's `metadata.evidence` holds once an outcome has said it
 * again: how many times it was recorded (its first time included), the
 * results of the outcomes it came from, and their newest ids.
 */
export interface Evidence {
  count: number;
  success: number;
  failure: number;
  partial: number;
  outcome_ids: string[];
}

/** An outcome that strengthens an existing memory instead of storing a copy of it (a lesson said again). */
export interface Reinforcement {
  memory_id: string;
  outcome_id: string;
  result: OutcomeResult;
  /** When: the memory's new updated_at. */
  at: string;
}

/** The evidence a memory's metadata holds: from a former reinforcement, else what its first recording says (an outcome's lesson names its outcome). */
export function evidenceOf(metadata: Record<string, unknown>): Evidence {
  const held = metadata.evidence as Partial<Evidence> | undefined;
  if (held && typeof held === 'object' && typeof held.count === 'number') {
    return { count: held.count, success: held.success ?? 0, failure: held.failure ?? 0, partial: held.partial ?? 0, outcome_ids: Array.isArray(held.outcome_ids) ? held.outcome_ids : [] };
  }
  const first: Evidence = { count: 1, success: 0, failure: 0, partial: 0, outcome_ids: [] };
  const result = metadata.result;
  if (typeof metadata.outcome_id === 'string' && (result === 'success' || result === 'failure' || result === 'partial')) {
    first[result] += 1;
    first.outcome_ids.push(metadata.outcome_id);
  }
  return first;
}

/** A memory's metadata with one more outcome in its evidence. */
export function withEvidence(metadata: Record<string, unknown>, r: Reinforcement): Record<string, unknown> {
  const evidence = evidenceOf(metadata);
  evidence.count += 1;
  evidence[r.result] += 1;
  evidence.outcome_ids = [...evidence.outcome_ids, r.outcome_id].slice(-EVIDENCE_OUTCOME_IDS);
  return { ...metadata, evidence };
}

/** A memory to strengthen that is gone (forgotten while the outcome was written): the write is refused, to be retried. */
export const reinforcedMemoryGone = (id: string): MemoryError =>
  new MemoryError('conflict', `lesson ${id} was forgotten while this outcome was recorded; call record_outcome again`);

/** One row of a memory's evidence, as a backup keeps it. */
export interface EvidenceRecord {
  memory_id: string;
  outcome_id: string;
  goal_id: string;
  result: OutcomeResult;
  how: EvidenceHow;
  at: string;
}

/** How an outcome bears on a memory: the memory came from it (a lesson it recorded or said again), or was recalled for its goal before it. */
export type EvidenceHow = 'from' | 'recalled';

/**
 * A memory's track record, from its evidence rows: how many outcomes it
 * came from and how many goals' deciding outcomes it was recalled before
 * (each outcome counted once), and how those outcomes went.
 */
export interface TrackRecord {
  from: number;
  recalled: number;
  success: number;
  failure: number;
  partial: number;
}

/** An empty track record, to add evidence rows' counts to. */
export const noTrackRecord = (): TrackRecord => ({ from: 0, recalled: 0, success: 0, failure: 0, partial: 0 });

/** Add one group of evidence rows (same how and result, `n` of them) to a track record. */
export function countEvidence(record: TrackRecord, how: string, result: string, n: number): void {
  if (how === 'from' || how === 'recalled') record[how] += n;
  if (result === 'success' || result === 'failure' || result === 'partial') record[result] += n;
}
