import type pg from 'pg';
import { openSharedPool, SHARED_SCHEMA, type SharedDatabaseSettings } from '../../auth/postgres-key-store.js';
import { LOCAL_PRINCIPAL, type Principal } from '../../domain/principal.js';

/** A Streamable HTTP session as every replica sees it: who opened it, and what its client said at initialize. */
export interface SharedSession {
  readonly id: string;
  readonly principal: Principal;
  /** The session's id in the audit trail, the same whichever replica serves a call. */
  readonly auditSession: string;
  readonly clientInfo: { name?: string | undefined; version?: string | undefined };
  /** The level the client set with logging/setLevel, null until it does. */
  readonly logLevel?: string | null;
}

/** Why a session could not be opened: the deployment's, the key's or the tenant's session limit. */
export type OpenRefusal = 'server' | 'key' | 'tenant';

export interface SessionLimits {
  maxSessions: number;
  maxPerKey: number;
  maxPerTenant: number;
  idleMs: number;
}

const TABLE = `${SHARED_SCHEMA}.http_sessions`;

/** Created once per database, under the same advisory lock as the shared schema's other tables. */
const TABLE_SQL = `
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    id            TEXT COLLATE "C" PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('streamable', 'sse')),
    principal_id  TEXT COLLATE "C" NOT NULL,
    tenant        TEXT COLLATE "C" NOT NULL,
    role          TEXT NOT NULL,
    namespaces    TEXT,
    audit_session TEXT NOT NULL,
    client_name   TEXT,
    client_version TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_active   TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS http_sessions_principal ON ${TABLE} (principal_id);
  CREATE INDEX IF NOT EXISTS http_sessions_last_active ON ${TABLE} (last_active);
  ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS log_level TEXT;`;

/** One advisory lock for opening sessions anywhere in the deployment, so that concurrent opens cannot overshoot a limit. */
const OPEN_LOCK = "hashtextextended('pinak-http-sessions', 0)";

/** A session's last activity is written at most this often: a session in use costs a read per request, not a write. */
const TOUCH_EVERY_SECONDS = 5;

/** A shared session as a row of either store's table. */
export interface SessionRow {
  id: string;
  principal_id: string;
  tenant: string;
  role: Principal['role'];
  namespaces: string | null;
  audit_session: string;
  client_name: string | null;
  client_version: string | null;
  log_level: string | null;
}

/** The session a row holds, for the principal it was opened by. */
export const sharedSession = (id: string, principal: Principal, row: SessionRow): SharedSession => ({
  id,
  principal,
  auditSession: row.audit_session,
  clientInfo: { name: row.client_name ?? undefined, version: row.client_version ?? undefined },
  logLevel: row.log_level,
});


/**
 * The open Streamable HTTP sessions of a whole deployment (every replica, or
 * every worker process on one data directory), wherever they are kept: a
 * session opened through one server is served by any other, ended by a
 * DELETE through any, and counted against the limits (the deployment's,
 * each key's, each tenant's) wherever it was opened. Legacy SSE streams are
 * recorded too while open (kind `sse`), only to be counted.
 */
export interface SessionDirectory {
  readonly limits: SessionLimits;
  /** Where the rows are, for logs: "postgres" or "sqlite". */
  readonly where: 'postgres' | 'sqlite';
  /** Record a new session, unless a limit is reached (idle sessions are forgotten first, so they do not count). */
  create(session: SharedSession, kind?: 'streamable' | 'sse'): Promise<OpenRefusal | null>;
  /** The session with this id opened by this principal (marking it active), or undefined: none, ended, idle too long, or another principal's. */
  use(id: string, principal: Principal): Promise<SharedSession | undefined>;
  /** Keep the logging level a session's client set, for the servers of its next requests. */
  setLogLevel(id: string, level: string): Promise<void>;
  /** End this principal's Streamable HTTP session; false when there was none to end. */
  end(id: string, principal: Principal): Promise<boolean>;
  /** Mark these sessions active (the legacy SSE streams this server holds open, which send no requests to mark them). */
  keepAlive(ids: readonly string[]): Promise<void>;
  /** Forget a session whatever its principal (its initialize was refused, its stream closed). */
  forget(id: string): Promise<void>;
  /** The key ids holding sessions (for the credential watch). */
  principalIds(): Promise<string[]>;
  /** End the sessions of these principals (their credentials stopped being valid); returns how many. */
  endOf(principalIds: readonly string[]): Promise<number>;
  /** Streamable HTTP sessions open in the deployment. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** The same principal: a session id is not a credential, and a token of the same subject with other rights is another principal. */
export const samePrincipalAs = (row: { principal_id: string; tenant: string; role: string; namespaces: string | null }, principal: Principal): boolean =>
  row.principal_id === principal.id && row.tenant === principal.tenant && row.role === principal.role && row.namespaces === namespacesOf(principal);

/** A principal's namespaces as stored in a session's row. */
export const namespacesOf = (principal: Principal): string | null => (principal.namespaces === null ? null : JSON.stringify(principal.namespaces));

/** Which limit, if any, one more session of this principal would pass, given the deployment's counts. */
export function refusalOf(limits: SessionLimits, principal: Principal, counts: { total: number; byKey: number; byTenant: number }): OpenRefusal | null {
  const capped = principal.id !== LOCAL_PRINCIPAL.id;
  if (capped && counts.byKey >= limits.maxPerKey) return 'key';
  if (capped && counts.byTenant >= limits.maxPerTenant) return 'tenant';
  if (counts.total >= limits.maxSessions) return 'server';
  return null;
}

/**
 * The deployment's sessions in the shared
 * schema of its PostgreSQL database: a session opened through one replica is
 * served by any other, ended by a DELETE through any, and counted against
 * the limits (the deployment's, each key's, each tenant's) wherever it was
 * opened. Rows are written without waiting for the WAL flush: a session lost
 * in a database crash answers 404, and MCP clients then start a new one.
 */
export class PostgresSessionDirectory implements SessionDirectory {
  readonly where = 'postgres';

  private constructor(
    private readonly pool: pg.Pool,
    readonly limits: SessionLimits,
  ) {}

  static async open(settings: SharedDatabaseSettings, limits: SessionLimits): Promise<PostgresSessionDirectory> {
    const pool = await openSharedPool(settings, { tables: TABLE_SQL, synchronousCommit: false });
    return new PostgresSessionDirectory(pool, limits);
  }

  /**
   * Record a new session, unless a limit is reached (idle sessions are
   * forgotten first, so they do not count). A legacy SSE session (`sse`)
   * is recorded only to be counted: its stream ties it to one replica.
   */
  async create(session: SharedSession, kind: 'streamable' | 'sse' = 'streamable'): Promise<OpenRefusal | null> {
    const { principal } = session;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${OPEN_LOCK})`);
      await client.query(`DELETE FROM ${TABLE} WHERE last_active < now() - $1::float8 * interval '1 millisecond'`, [this.limits.idleMs]);
      const { rows } = await client.query<{ total: string; by_key: string; by_tenant: string }>(
        `SELECT count(*) AS total,
                count(*) FILTER (WHERE principal_id = $1) AS by_key,
                count(*) FILTER (WHERE tenant = $2 AND principal_id <> $3) AS by_tenant
           FROM ${TABLE}`,
        [principal.id, principal.tenant, LOCAL_PRINCIPAL.id],
      );
      const counts = rows[0]!;
      const refusal = refusalOf(this.limits, principal, { total: Number(counts.total), byKey: Number(counts.by_key), byTenant: Number(counts.by_tenant) });
      if (refusal === null) {
        await client.query(
          `INSERT INTO ${TABLE} (id, kind, principal_id, tenant, role, namespaces, audit_session, client_name, client_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [session.id, kind, principal.id, principal.tenant, principal.role, namespacesOf(principal), session.auditSession, session.clientInfo.name ?? null, session.clientInfo.version ?? null],
        );
      }
      await client.query('COMMIT');
      return refusal;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The session with this id opened by this principal (marking it active), or
   * undefined: none, ended, idle too long, or another principal's (as good
   * as none). The request's own principal is returned with it: its
   * credential's expiry and address are this request's.
   */
  async use(id: string, principal: Principal): Promise<SharedSession | undefined> {
    const { rows } = await this.pool.query<SessionRow & { stale: boolean }>(
      `SELECT *, last_active < now() - $2::float8 * interval '1 second' AS stale FROM ${TABLE}
        WHERE id = $1 AND kind = 'streamable' AND last_active >= now() - $3::float8 * interval '1 millisecond'`,
      [id, TOUCH_EVERY_SECONDS, this.limits.idleMs],
    );
    const row = rows[0];
    if (!row || !samePrincipalAs(row, principal)) return undefined;
    if (row.stale) await this.pool.query(`UPDATE ${TABLE} SET last_active = now() WHERE id = $1`, [id]);
    return sharedSession(id, principal, row);
  }

  /** Keep the logging level a session's client set, for the servers of its next requests, on any replica. */
  async setLogLevel(id: string, level: string): Promise<void> {
    await this.pool.query(`UPDATE ${TABLE} SET log_level = $2 WHERE id = $1 AND kind = 'streamable'`, [id, level]);
  }

  /** End this principal's Streamable HTTP session; false when there was none to end. */
  async end(id: string, principal: Principal): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${TABLE} WHERE id = $1 AND kind = 'streamable' AND principal_id = $2 AND tenant = $3 AND role = $4 AND namespaces IS NOT DISTINCT FROM $5`,
      [id, principal.id, principal.tenant, principal.role, namespacesOf(principal)],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Mark these sessions active (the legacy SSE streams this replica holds open, which send no requests to mark them). */
  async keepAlive(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`UPDATE ${TABLE} SET last_active = now() WHERE id = ANY($1::text[])`, [[...ids]]);
  }

  /** Forget a session whatever its principal (its initialize was refused, its stream closed). */
  async forget(id: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${TABLE} WHERE id = $1`, [id]);
  }

  /** The key ids holding sessions (for the credential watch). */
  async principalIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ principal_id: string }>(`SELECT DISTINCT principal_id FROM ${TABLE} WHERE principal_id <> $1`, [LOCAL_PRINCIPAL.id]);
    return rows.map((row) => row.principal_id);
  }

  /** End the sessions of these principals (their credentials stopped being valid); returns how many. */
  async endOf(principalIds: readonly string[]): Promise<number> {
    if (principalIds.length === 0) return 0;
    const { rowCount } = await this.pool.query(`DELETE FROM ${TABLE} WHERE principal_id = ANY($1::text[])`, [[...principalIds]]);
    return rowCount ?? 0;
  }

  /** Streamable HTTP sessions open in the deployment. */
  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${TABLE} WHERE kind = 'streamable' AND last_active >= now() - $1::float8 * interval '1 millisecond'`,
      [this.limits.idleMs],
    );
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
