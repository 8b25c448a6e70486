import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { newId } from '../domain/ids.js';
import { generateKey, hashKey, looksLikeKey } from './key-format.js';
import { checkedKey, fromKeyRow, invalidOf, type ApiKey, type KeyCheck, type KeyRow, type KeyStore, type NewKey } from './key-store.js';

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

/**
 * The API keys of one data directory, in their own small SQLite file (WAL,
 * shared by every server process and the `keys` commands), holding only a
 * hash of each key. Keys are revoked, never deleted, so the audit trail's
 * key ids keep meaning something.
 */
export class SqliteKeyStore implements KeyStore {
  private readonly byHash: Database.Statement;
  private readonly anyKey: Database.Statement;

  private constructor(private readonly db: Database.Database) {
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE hash = ?');
    // Asked on every HTTP request (are keys required?): prepared once.
    this.anyKey = db.prepare('SELECT EXISTS (SELECT 1 FROM api_keys) AS e').pluck();
  }

  static open(file: string, busyTimeoutMs: number): SqliteKeyStore {
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
      return new SqliteKeyStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Store a new key and return it: the only time the key itself exists outside its holder's hands. */
  async create(spec: NewKey, now: string): Promise<{ key: string; record: ApiKey }> {
    const key = generateKey();
    const record: ApiKey = { id: newId(), ...spec, created_at: now, revoked_at: null, last_used_at: null };
    this.db
      .prepare(`INSERT INTO api_keys (id, name, tenant, role, namespaces, hash, created_at, expires_at)
        VALUES (@id, @name, @tenant, @role, @namespaces, @hash, @created_at, @expires_at)`)
      .run({ ...record, namespaces: record.namespaces === null ? null : JSON.stringify(record.namespaces), hash: hashKey(key) });
    return { key, record };
  }

  async list(): Promise<ApiKey[]> {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as KeyRow[]).map(fromKeyRow);
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
    return row ? fromKeyRow(row) : undefined;
  }

  /** Revoke a key at once; returns the key as it now is, or undefined for an unknown id. */
  async revoke(id: string, now: string): Promise<ApiKey | undefined> {
    this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
    return await this.get(id);
  }

  /** Whether any key was ever created (HTTP then requires one). */
  async any(): Promise<boolean> {
    return this.anyKey.get() === 1;
  }

  /** Check a presented key: one indexed read, so a revoked key stops working with its next request. */
  async check(presented: string, now: Date): Promise<KeyCheck> {
    if (!looksLikeKey(presented)) return { ok: false, reason: 'unknown' };
    const hash = hashKey(presented);
    return checkedKey(this.byHash.get(hash) as KeyRow | undefined, hash, now);
  }

  /**
   * Of these key ids, those no longer valid at `now` (revoked or expired):
   * one indexed read, so every process sharing the store sees a revocation
   * within its next look.
   */
  async invalid(ids: readonly string[], now: Date): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare('SELECT id, revoked_at, expires_at FROM api_keys WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as Array<Pick<ApiKey, 'id' | 'revoked_at' | 'expires_at'>>;
    return invalidOf(ids, rows, now);
  }

  /** Note when a key was last used (callers throttle this: it is a write). */
  async touch(id: string, now: string): Promise<void> {
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(now, id);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
