import type { Memory } from '../domain/memory.js';
import { provenanceOf } from '../domain/provenance.js';
import { parseJson } from './json.js';

/** A memory as both backends store it (JSON columns as text). */
export interface MemoryRow {
  id: string;
  doc_id: number;
  namespace: string;
  layer: Memory['layer'];
  kind: string;
  content: string;
  tags: string;
  metadata: string;
  importance: number;
  source: string | null;
  goal_id: string | null;
  occurred_at: string;
  created_at: string;
  updated_at: string;
  supersedes: string | null;
  superseded_by: string | null;
  thread_id: string | null;
  thread_position: number | null;
  /** Null in rows stored before provenance (see domain/provenance.ts). */
  origin?: string | null;
  origin_ref?: string | null;
  written_by?: string | null;
  /** The injection detector's signals as JSON; null (or absent before the migration): not scanned. */
  injection?: string | null;
  /** Held for review: 1 / true (SQLite / PostgreSQL); absent before the migration. */
  held?: number | boolean;
}

/** The stored verdict as a list of signals, or null when the text was not scanned. */
export const injectionOf = (text: string | null | undefined): string[] | null => (text === null || text === undefined ? null : parseJson<string[]>(text, []));
/** The verdict as a column holds it. */
export const injectionColumn = (signals: readonly string[] | null): string | null => (signals === null ? null : JSON.stringify(signals));

export function toMemory(row: MemoryRow): Memory {
  return {
    id: row.id,
    layer: row.layer,
    kind: row.kind,
    content: row.content,
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    importance: row.importance,
    namespace: row.namespace,
    source: row.source,
    goal_id: row.goal_id,
    occurred_at: row.occurred_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    supersedes: row.supersedes,
    superseded_by: row.superseded_by,
    thread_id: row.thread_id,
    thread_position: row.thread_position,
    ...provenanceOf(row),
    injection: injectionOf(row.injection),
    held: row.held === true || row.held === 1,
  };
}

