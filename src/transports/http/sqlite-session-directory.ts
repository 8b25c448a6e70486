import type Database from 'better-sqlite3';
import { LOCAL_PRINCIPAL, type Principal } from '../../domain/principal.js';
import { namespacesOf, refusalOf, samePrincipalAs, type OpenRefusal, type SessionDirectory, type SessionRow, type SessionLimits, type SharedSession, sharedSession } from './session-directory.js';

/** A session's last activity is written at most this often: a session in use costs a read per request, not a write. */
const TOUCH_EVERY_MS = 5000;

interface SqliteSessionRow extends SessionRow {
  last_active: number;
}

/**
 * The sessions of every process serving HTTP on one data directory (the
 * workers of `--workers N`, or several servers started on it), in its shared
 * SQLite file: what PostgreSQL's directory is to replicas. Opening a session
 * counts and inserts in one write transaction (SQLite's write lock stands
 * for PostgreSQL's advisory lock), so concurrent opens in several processes
 * cannot overshoot a limit.
 */
export class SqliteSessionDirectory implements SessionDirectory {
  readonly where = 'sqlite';
  private readonly openTx: (session: SharedSession, kind: 'streamable' | 'sse', now: number) => OpenRefusal | null;
  private readonly byId: Database.Statement<[string, number], SqliteSessionRow>;
  private readonly touch: Database.Statement<[number, string]>;

  constructor(
    private readonly db: Database.Database,
    readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    const expire = db.prepare<[number]>('DELETE FROM http_sessions WHERE last_active < ?');
    const counts = db.prepare<[string, string, string], { total: number; by_key: number | null; by_tenant: number | null }>(
      `SELECT count(*) AS total,
              sum(principal_id = ?) AS by_key,
              sum(tenant = ? AND principal_id <> ?) AS by_tenant
         FROM http_sessions`,
    );
    const insert = db.prepare(
      `INSERT INTO http_sessions (id, kind, principal_id, tenant, role, namespaces, audit_session, client_name, client_version, created_at, last_active)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const open = db.transaction((session: SharedSession, kind: 'streamable' | 'sse', now: number): OpenRefusal | null => {
      expire.run(now - this.limits.idleMs);
      const { principal } = session;
      const row = counts.get(principal.id, principal.tenant, LOCAL_PRINCIPAL.id)!;
      const refusal = refusalOf(this.limits, principal, { total: row.total, byKey: row.by_key ?? 0, byTenant: row.by_tenant ?? 0 });
      if (refusal === null) {
        insert.run(session.id, kind, principal.id, principal.tenant, principal.role, namespacesOf(principal), session.auditSession, session.clientInfo.name ?? null, session.clientInfo.version ?? null, now, now);
      }
      return refusal;
    });
    this.openTx = (session, kind, now) => open.immediate(session, kind, now);
    this.byId = db.prepare("SELECT * FROM http_sessions WHERE id = ? AND kind = 'streamable' AND last_active >= ?");
    this.touch = db.prepare('UPDATE http_sessions SET last_active = ? WHERE id = ?');
  }

  async create(session: SharedSession, kind: 'streamable' | 'sse' = 'streamable'): Promise<OpenRefusal | null> {
    return this.openTx(session, kind, this.now());
  }

  async use(id: string, principal: Principal): Promise<SharedSession | undefined> {
    const now = this.now();
    const row = this.byId.get(id, now - this.limits.idleMs);
    if (!row || !samePrincipalAs(row, principal)) return undefined;
    if (now - row.last_active >= TOUCH_EVERY_MS) this.touch.run(now, id);
    return sharedSession(id, principal, row);
  }

  async setLogLevel(id: string, level: string): Promise<void> {
    this.db.prepare("UPDATE http_sessions SET log_level = ? WHERE id = ? AND kind = 'streamable'").run(level, id);
  }

  async end(id: string, principal: Principal): Promise<boolean> {
    const { changes } = this.db
      .prepare("DELETE FROM http_sessions WHERE id = ? AND kind = 'streamable' AND principal_id = ? AND tenant = ? AND role = ? AND namespaces IS ?")
      .run(id, principal.id, principal.tenant, principal.role, namespacesOf(principal));
    return changes > 0;
  }

  async keepAlive(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const now = this.now();
    this.db.transaction(() => {
      for (const id of ids) this.touch.run(now, id);
    })();
  }

  async forget(id: string): Promise<void> {
    this.db.prepare('DELETE FROM http_sessions WHERE id = ?').run(id);
  }

  async principalIds(): Promise<string[]> {
    const rows = this.db.prepare<[string], { principal_id: string }>('SELECT DISTINCT principal_id FROM http_sessions WHERE principal_id <> ?').all(LOCAL_PRINCIPAL.id);
    return rows.map((row) => row.principal_id);
  }

  async endOf(principalIds: readonly string[]): Promise<number> {
    if (principalIds.length === 0) return 0;
    const remove = this.db.prepare('DELETE FROM http_sessions WHERE principal_id = ?');
    return this.db.transaction(() => principalIds.reduce((sum, id) => sum + remove.run(id).changes, 0))();
  }

  async count(): Promise<number> {
    const row = this.db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM http_sessions WHERE kind = 'streamable' AND last_active >= ?").get(this.now() - this.limits.idleMs)!;
    return row.n;
  }

  /** The shared file belongs to the HTTP server, which closes it. */
  async close(): Promise<void> {}
}
