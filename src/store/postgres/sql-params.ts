import { originsAtLeast } from '../../domain/trust.js';
import type { StoreFilters } from '../store.js';

/** Numbered parameters ($1, $2, …) collected while a statement is built. */
export class Params {
  readonly values: unknown[] = [];

  /** Another list holding the same values so far, to go on differently from here. */
  copy(): Params {
    const out = new Params();
    out.values.push(...this.values);
    return out;
  }

  /** Add a value; returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The search filters as a WHERE clause over `search_docs d` (the same meaning as the SQLite backend's filter-sql.ts). */
export function filterClause(filters: StoreFilters, p: Params): string {
  const clauses: string[] = [];
  if (filters.namespace !== null) clauses.push(`d.namespace = ${p.add(filters.namespace)}`);
  // Superseded records may be asked for; records held for review never are.
  clauses.push(filters.include_superseded ? 'NOT d.held' : 'NOT d.hidden');
  if (filters.layers?.length) clauses.push(`d.layer = ANY(${p.add([...filters.layers])}::text[])`);
  if (filters.kinds?.length) clauses.push(`d.kind = ANY(${p.add([...filters.kinds])}::text[])`);
  if (filters.types?.length) clauses.push(`d.type = ANY(${p.add([...filters.types])}::text[])`);
  if (filters.origins?.length) clauses.push(`d.origin = ANY(${p.add([...filters.origins])}::text[])`);
  if (filters.min_trust !== undefined) {
    const { origins, unrecorded } = originsAtLeast(filters.min_trust);
    clauses.push(`(d.origin = ANY(${p.add(origins)}::text[])${unrecorded ? ' OR d.origin IS NULL' : ''}) AND NOT d.flagged`);
  }
  if (filters.goal_id !== undefined) clauses.push(`d.goal_id = ${p.add(filters.goal_id)}`);
  if (filters.tags_any?.length) {
    clauses.push(`EXISTS (SELECT 1 FROM doc_tags t WHERE t.doc_id = d.doc_id AND t.tag = ANY(${p.add([...filters.tags_any])}::text[]))`);
  }
  if (filters.tags_all?.length) {
    const distinct = [...new Set(filters.tags_all)];
    clauses.push(`(SELECT COUNT(*) FROM doc_tags t WHERE t.doc_id = d.doc_id AND t.tag = ANY(${p.add(distinct)}::text[])) = ${p.add(distinct.length)}`);
  }
  // The column name comes from a closed enum, never from the caller's text.
  const timeColumn = filters.time_field === 'created_at' ? 'd.created_at' : 'd.occurred_at';
  if (filters.since !== undefined) clauses.push(`${timeColumn} >= ${p.add(filters.since)}`);
  if (filters.until !== undefined) clauses.push(`${timeColumn} < ${p.add(filters.until)}`);
  return clauses.length ? clauses.join(' AND ') : 'TRUE';
}
