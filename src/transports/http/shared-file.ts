import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

/** The file, in the data directory, of what every process serving HTTP on it shares. */
export const SHARED_FILE_NAME = 'http-state.db';

export const sharedFileOf = (dataDir: string): string => join(dataDir, SHARED_FILE_NAME);

/**
 * The tables of the shared file: the open sessions (as the PostgreSQL
 * directory's, times in epoch milliseconds), each key's rate bucket, and the
 * memory browser's sign-ins (sealed: see ui/sqlite-sessions.ts) with its
 * one-time local tokens. Everything here is transient: losing the file signs
 * clients out and refills buckets, nothing more.
 */
const TABLES_SQL = `
  CREATE TABLE IF NOT EXISTS http_sessions (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('streamable', 'sse')),
    principal_id   TEXT NOT NULL,
    tenant         TEXT NOT NULL,
    role           TEXT NOT NULL,
    namespaces     TEXT,
    audit_session  TEXT NOT NULL,
    client_name    TEXT,
    client_version TEXT,
    log_level      TEXT,
    created_at     INTEGER NOT NULL,
    last_active    INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS http_sessions_principal ON http_sessions (principal_id);
  CREATE INDEX IF NOT EXISTS http_sessions_last_active ON http_sessions (last_active);
  CREATE TABLE IF NOT EXISTS rate_buckets (
    id     TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    at     REAL NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ui_sessions (
    key       TEXT PRIMARY KEY,
    sealed    BLOB NOT NULL,
    signed_in INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ui_local_tokens (
    key   TEXT PRIMARY KEY,
    until INTEGER NOT NULL
  ) WITHOUT ROWID;`;

/**
 * Open (creating if needed) the shared file of a data directory: WAL, so
 * readers never wait for a writer; writes not synced (`synchronous = OFF`:
 * an application crash loses nothing, an operating system crash at most the
 * last moments of sessions and buckets); the busy timeout for the other
 * processes' short write transactions.
 */
export function openSharedFile(file: string, busyTimeoutMs: number): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    // Several processes may open a new file at once: create the tables under the write lock.
    db.transaction(() => db.exec(TABLES_SQL)).immediate();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
