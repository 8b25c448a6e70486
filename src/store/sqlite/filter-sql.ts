import { originsAtLeast } from '../../domain/trust.js';
import type { StoreFilters } from '../store.js';

/** What the search filters become in SQL: a WHERE clause over `search_docs d`, and how full-text matches join it. */

export interface SqlPart {
  sql: string;
  params: unknown[];
}

/**
 * How to join the full-text matches to their docs for these filters: through
 * the narrow scope index (migration 0009) when it holds every column they
 * test (namespace and visibility, the usual case), else the table.
 */
export const docsJoin = (filters: StoreFilters): string =>
  // The planner picks the table's primary key on its own: name the index.
  scopeOnly(filters) ? 'search_docs d INDEXED BY search_docs_scope' : 'search_docs d';

/** The filters test nothing but namespace and visibility. */
export const scopeOnly = (filters: StoreFilters): boolean =>
  !filters.layers?.length && !filters.kinds?.length && !filters.types?.length && !filters.origins?.length && filters.min_trust === undefined && filters.goal_id === undefined &&
  !filters.tags_any?.length && !filters.tags_all?.length && filters.since === undefined && filters.until === undefined;

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** Turn normalised filters into a WHERE clause over `search_docs d`. */
export function filterSql(filters: StoreFilters): SqlPart {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]): void => {
    clauses.push(sql);
    params.push(...values);
  };
  if (filters.namespace !== null) add('d.namespace = ?', filters.namespace);
  // Superseded records may be asked for; records held for review never are.
  add(filters.include_superseded ? 'd.held = 0' : 'd.hidden = 0');
  if (filters.layers?.length) add(`d.layer IN (${placeholders(filters.layers.length)})`, ...filters.layers);
  if (filters.kinds?.length) add(`d.kind IN (${placeholders(filters.kinds.length)})`, ...filters.kinds);
  if (filters.types?.length) add(`d.type IN (${placeholders(filters.types.length)})`, ...filters.types);
  if (filters.origins?.length) add(`d.origin IN (${placeholders(filters.origins.length)})`, ...filters.origins);
  if (filters.min_trust !== undefined) {
    const { origins, unrecorded } = originsAtLeast(filters.min_trust);
    add(`(d.origin IN (${placeholders(origins.length)})${unrecorded ? ' OR d.origin IS NULL' : ''}) AND d.flagged = 0`, ...origins);
  }
  if (filters.goal_id !== undefined) add('d.goal_id = ?', filters.goal_id);
  if (filters.tags_any?.length) {
    add(
      `EXISTS (SELECT 1 FROM doc_tags t WHERE t.doc_id = d.doc_id AND t.tag IN (${placeholders(filters.tags_any.length)}))`,
      ...filters.tags_any,
    );
  }
  if (filters.tags_all?.length) {
    const distinct = [...new Set(filters.tags_all)];
    add(
      `(SELECT COUNT(*) FROM doc_tags t WHERE t.doc_id = d.doc_id AND t.tag IN (${placeholders(distinct.length)})) = ?`,
      ...distinct,
      distinct.length,
    );
  }
  // The column name comes from a closed enum, never from the caller's text.
  const timeColumn = filters.time_field === 'created_at' ? 'd.created_at' : 'd.occurred_at';
  if (filters.since !== undefined) add(`${timeColumn} >= ?`, filters.since);
  if (filters.until !== undefined) add(`${timeColumn} < ?`, filters.until);
  return { sql: clauses.length ? clauses.join(' AND ') : '1', params };
}
