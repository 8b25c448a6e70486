import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { newId } from '../domain/ids.js';
import type { Role } from '../domain/principal.js';
import { generateKey, hashKey, looksLikeKey, sameDigest } from './key-format.js';

/** An API key as listed: everything but the key, which is never stored. */
export interface ApiKey {
  id: string;
  name: string | null;
  tenant: string;
  role: Role;
  /** The namespaces it may use, the first being its default; null for all. */
  namespaces: string[] | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface NewKey {
  tenant: string;
  role: Role;
  namespaces: string[] | null;
  expires_at: string | null;
  name: string | null;
}

export type KeyCheck = { ok: true; key: ApiKey } | { ok: false; reason: 'unknown' | 'revoked' | 'expired'; key?: ApiKey };

type Row = Omit<ApiKey, 'namespaces'> & { namespaces: string | null; hash: string };

/** The schema of keys.db, in order; each entry runs once, in its own transaction. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `CREATE TABLE api_keys (
      id           TEXT PRIMARY KEY,
      name         TEXT,
      tenant       TEXT NOT NULL,
      role         TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
      namespaces   TEXT,
      hash         TEXT NOT NULL UNIQUE,
      created_at   TEXT NOT NULL,
      expires_at   TEXT,
      revoked_at   TEXT,
      last_used_at TEXT
    )`,
  },
];

const fromRow = ({ hash: _hash, namespaces, ...rest }: Row): ApiKey => ({ ...rest, namespaces: namespaces === null ? null : (JSON.parse(namespaces) as string[]) });

/**
 * The API keys of one data directory, in their own small SQLite file (WAL,
 * shared by every server process and the `keys` commands), holding only a
 * hash of each key. Keys are revoked, never deleted, so the audit trail's
 * key ids keep meaning something.
 */
export class KeyStore {
  private readonly byHash: Database.Statement;

  private constructor(private readonly db: Database.Database) {
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE hash = ?');
  }

  static open(file: string, busyTimeoutMs: number): KeyStore {
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file, { timeout: busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
      db.exec('CREATE TABLE IF NOT EXISTS key_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      const version = (): number => (db.prepare('SELECT MAX(version) AS v FROM key_migrations').get() as { v: number | null }).v ?? 0;
      const newest = MIGRATIONS.at(-1)!.version;
      if (version() > newest) throw new Error(`the key database is version ${version()}, newer than this release supports (${newest}); upgrade pinak-memory`);
      for (const migration of MIGRATIONS) {
        // Several processes may open a new file at once: take the write lock, then check again.
        db.transaction(() => {
          if (version() >= migration.version) return;
          db.exec(migration.sql);
          db.prepare('INSERT INTO key_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, new Date().toISOString());
        }).immediate();
      }
      return new KeyStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Store a new key and return it: the only time the key itself exists outside its holder's hands. */
  create(spec: NewKey, now: string): { key: string; record: ApiKey } {
    const key = generateKey();
    const record: ApiKey = { id: newId(), ...spec, created_at: now, revoked_at: null, last_used_at: null };
    this.db
      .prepare(`INSERT INTO api_keys (id, name, tenant, role, namespaces, hash, created_at, expires_at)
        VALUES (@id, @name, @tenant, @role, @namespaces, @hash, @created_at, @expires_at)`)
      .run({ ...record, namespaces: record.namespaces === null ? null : JSON.stringify(record.namespaces), hash: hashKey(key) });
    return { key, record };
  }

  list(): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as Row[]).map(fromRow);
  }

  get(id: string): ApiKey | undefined {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Revoke a key at once; returns the key as it now is, or undefined for an unknown id. */
  revoke(id: string, now: string): ApiKey | undefined {
    this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
    return this.get(id);
  }

  /** Whether any key was ever created (HTTP then requires one). */
  any(): boolean {
    return this.db.prepare('SELECT EXISTS (SELECT 1 FROM api_keys) AS e').pluck().get() === 1;
  }

  /** Check a presented key: one indexed read, so a revoked key stops working with its next request. */
  check(presented: string, now: Date): KeyCheck {
    if (!looksLikeKey(presented)) return { ok: false, reason: 'unknown' };
    const hash = hashKey(presented);
    const row = this.byHash.get(hash) as Row | undefined;
    if (!row || !sameDigest(row.hash, hash)) return { ok: false, reason: 'unknown' };
    const key = fromRow(row);
    if (key.revoked_at !== null) return { ok: false, reason: 'revoked', key };
    if (key.expires_at !== null && Date.parse(key.expires_at) <= now.getTime()) return { ok: false, reason: 'expired', key };
    return { ok: true, key };
  }

  /**
   * Of these key ids, those no longer valid at `now` (revoked or expired):
   * one indexed read, so every process sharing the store sees a revocation
   * within its next look.
   */
  invalid(ids: readonly string[], now: Date): string[] {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare('SELECT id, revoked_at, expires_at FROM api_keys WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as Array<Pick<ApiKey, 'id' | 'revoked_at' | 'expires_at'>>;
    const found = new Set(rows.map((row) => row.id));
    const expired = (at: string | null): boolean => at !== null && Date.parse(at) <= now.getTime();
    // A key that is gone from the store is as invalid as a revoked one.
    return [...rows.filter((row) => row.revoked_at !== null || expired(row.expires_at)).map((row) => row.id), ...ids.filter((id) => !found.has(id))];
  }

  /** Note when a key was last used (callers throttle this: it is a write). */
  touch(id: string, now: string): void {
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(now, id);
  }

  close(): void {
    this.db.close();
  }
}
