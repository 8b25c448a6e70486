/* The audit trail as stores keep it: a row per tool call, the filters of a page of it, and the SQL those filters become. */


/** Filters of a page of the audit trail; each one set narrows it. */
export interface AuditQuery {
  tool?: string;
  principal_id?: string;
  status?: AuditRow['status'];
  /** Only rows of these namespaces (null or absent: any, rows without a namespace included). */
  namespaces?: readonly string[] | null;
  /** Only rows that touched or returned this record id. */
  touching?: string;
  /** Only rows that touched or returned any of these record ids (none: no row). */
  touching_any?: readonly string[];
  /** Rows at or after this time, and before that one (ISO 8601, compared as text). */
  since?: string;
  until?: string;
  /** Rows with a smaller sequence number: the next page after a row. */
  before?: number;
  limit: number;
}

/** An audit row with its sequence number. */
export type NumberedAuditRow = AuditRow & { seq: number };

export interface AuditRow {
  at: string;
  tool: string;
  namespace: string | null;
  client_name: string | null;
  client_version: string | null;
  session_id: string | null;
  args_sha256: string;
  args_bytes: number;
  status: 'ok' | 'invalid' | 'error';
  error_code: string | null;
  duration_ms: number;
  ids_touched: string[];
  ids_returned: string[];
  /** The API key's id, or "local"; null in rows written before keys existed. */
  principal_id?: string | null;
  tenant?: string | null;
  /** The HTTP client's address; null over stdio. */
  remote_address?: string | null;
}

/** The most rows one page of the audit trail may hold, whatever is asked. */
export const MAX_AUDIT_PAGE = 500;

/**
 * The WHERE clause and its parameters for a page of the audit trail, the
 * same for both backends but for how a parameter is written (`?` or `$n`)
 * and how a substring is found. Record ids are found in the JSON arrays as
 * their quoted JSON text, by a case-sensitive substring test (never LIKE,
 * whose wildcards and case folding would match other ids).
 */
export function auditWhere(
  query: AuditQuery,
  param: (value: unknown) => string,
  contains: (column: string, needle: string) => string,
): string {
  const conditions: string[] = [];
  if (query.tool !== undefined) conditions.push(`a.tool = ${param(query.tool)}`);
  if (query.principal_id !== undefined) conditions.push(`a.principal_id = ${param(query.principal_id)}`);
  if (query.status !== undefined) conditions.push(`a.status = ${param(query.status)}`);
  if (query.namespaces) {
    if (query.namespaces.length === 0) conditions.push('1 = 0');
    else conditions.push(`a.namespace IN (${query.namespaces.map((n) => param(n)).join(', ')})`);
  }
  if (query.touching !== undefined) {
    const needle = JSON.stringify(query.touching);
    conditions.push(`(${contains('a.ids_touched', param(needle))} OR ${contains('a.ids_returned', param(needle))})`);
  }
  if (query.touching_any !== undefined) {
    // A parameter each time: SQLite's are positional.
    const found = query.touching_any.flatMap((id) => {
      const needle = JSON.stringify(id);
      return [contains('a.ids_touched', param(needle)), contains('a.ids_returned', param(needle))];
    });
    conditions.push(found.length ? `(${found.join(' OR ')})` : '1 = 0');
  }
  if (query.since !== undefined) conditions.push(`a.at >= ${param(query.since)}`);
  if (query.until !== undefined) conditions.push(`a.at < ${param(query.until)}`);
  if (query.before !== undefined) conditions.push(`a.seq < ${param(query.before)}`);
  return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
}

/** The page size to read: at least 1, at most MAX_AUDIT_PAGE. */
export const auditLimit = (query: AuditQuery): number => Math.max(1, Math.min(MAX_AUDIT_PAGE, Math.floor(query.limit)));
