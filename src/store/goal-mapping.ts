import type { Goal, Outcome, Step } from '../domain/goal.js';
import type { GoalRecord } from './store.js';
import { provenanceOf } from '../domain/provenance.js';
import { injectionOf } from './memory-mapping.js';
import { parseJson } from './json.js';

/** The tables' rows, and how each becomes what the store returns. */
export interface GoalRow {
  id: string;
  doc_id: number;
  namespace: string;
  title: string;
  description: string | null;
  success_criteria: string;
  priority: Goal['priority'];
  status: Goal['status'];
  tags: string;
  metadata: string;
  parent_goal_id: string | null;
  plan_version: number;
  source: string | null;
  created_at: string;
  updated_at: string;
  /** Null in rows stored before provenance. */
  origin?: string | null;
  origin_ref?: string | null;
  written_by?: string | null;
  /** The injection verdict as JSON; null (absent before the migration): not scanned. */
  injection?: string | null;
}

export interface StepRow extends Step {
  doc_id: number;
  plan_version: number;
}

export interface OutcomeRow {
  id: string;
  goal_id: string;
  step_id: string | null;
  result: Outcome['result'];
  summary: string;
  lessons: string;
  metrics: string;
  summary_memory_id: string;
  lesson_memory_ids: string;
  created_at: string;
  origin?: string | null;
  origin_ref?: string | null;
  written_by?: string | null;
  injection?: string | null;
}

export function toRecord(row: GoalRow): GoalRecord {
  return {
    id: row.id,
    namespace: row.namespace,
    title: row.title,
    description: row.description,
    success_criteria: parseJson<string[]>(row.success_criteria, []),
    priority: row.priority,
    status: row.status,
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    parent_goal_id: row.parent_goal_id,
    source: row.source,
    created_at: row.created_at,
    updated_at: row.updated_at,
    ...provenanceOf(row),
    injection: injectionOf(row.injection),
  };
}

export function toStep(row: StepRow): Step {
  return {
    id: row.id,
    position: row.position,
    title: row.title,
    detail: row.detail,
    status: row.status,
    result_note: row.result_note,
    updated_at: row.updated_at,
  };
}

export function toOutcome(row: OutcomeRow): Outcome {
  return {
    id: row.id,
    goal_id: row.goal_id,
    step_id: row.step_id,
    result: row.result,
    summary: row.summary,
    lessons: parseJson<string[]>(row.lessons, []),
    metrics: parseJson<Record<string, unknown>>(row.metrics, {}),
    summary_memory_id: row.summary_memory_id,
    lesson_memory_ids: parseJson<string[]>(row.lesson_memory_ids, []),
    created_at: row.created_at,
    ...provenanceOf(row),
    injection: injectionOf(row.injection),
  };
}
