import type pg from 'pg';
import { redactDatabaseUrl } from '../domain/database-url.js';
import { StartupError } from '../domain/errors.js';
import { sameDigest } from './key-format.js';
import type { Role } from '../domain/principal.js';

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

/**
 * Where API keys are kept: a small SQLite file in the data directory
 * (keys.db), or, with a PostgreSQL database, a table every server on it
 * shares (so a revocation reaches every replica with its next request).
 * Keys are revoked, never deleted, so the audit trail's key ids keep meaning
 * something; only a hash of each key is stored.
 */
export interface KeyStore {
  /** Store a new key and return it: the only time the key itself exists outside its holder's hands. */
  create(spec: NewKey, now: string): Promise<{ key: string; record: ApiKey }>;
  list(): Promise<ApiKey[]>;
  get(id: string): Promise<ApiKey | undefined>;
  /** Revoke a key at once; returns the key as it now is, or undefined for an unknown id. */
  revoke(id: string, now: string): Promise<ApiKey | undefined>;
  /** Whether any key was ever created (HTTP then requires one). */
  any(): Promise<boolean>;
  /** Check a presented key: one indexed read, so a revoked key stops working with its next request. */
  check(presented: string, now: Date): Promise<KeyCheck>;
  /** Of these key ids, those no longer valid at `now` (revoked, expired, or gone): one indexed read. */
  invalid(ids: readonly string[], now: Date): Promise<string[]>;
  /** Note when a key was last used (callers throttle this: it is a write). */
  touch(id: string, now: string): Promise<void>;
  /** With the keys in PostgreSQL, the pool on the shared schema (the per-key rate limit keeps its buckets there too). */
  readonly sharedPool?: pg.Pool;
  close(): Promise<void>;
}

/** A stored key row: the key's fields, its namespaces as JSON text, and the hash of the key. */
export type KeyRow = Omit<ApiKey, 'namespaces'> & { namespaces: string | null; hash: string };

export const fromKeyRow = ({ hash: _hash, namespaces, ...rest }: KeyRow): ApiKey => ({ ...rest, namespaces: namespaces === null ? null : (JSON.parse(namespaces) as string[]) });

/** A presented key checked against its stored row (undefined: no key has its hash). */
export function checkedKey(row: KeyRow | undefined, hash: string, now: Date): KeyCheck {
  if (!row || !sameDigest(row.hash, hash)) return { ok: false, reason: 'unknown' };
  const key = fromKeyRow(row);
  if (key.revoked_at !== null) return { ok: false, reason: 'revoked', key };
  if (key.expires_at !== null && Date.parse(key.expires_at) <= now.getTime()) return { ok: false, reason: 'expired', key };
  return { ok: true, key };
}

/** Of the ids asked about, those whose rows say invalid at `now`, and those with no row at all. */
export function invalidOf(ids: readonly string[], rows: ReadonlyArray<Pick<ApiKey, 'id' | 'revoked_at' | 'expires_at'>>, now: Date): string[] {
  const found = new Set(rows.map((row) => row.id));
  const expired = (at: string | null): boolean => at !== null && Date.parse(at) <= now.getTime();
  // A key that is gone from the store is as invalid as a revoked one.
  return [...rows.filter((row) => row.revoked_at !== null || expired(row.expires_at)).map((row) => row.id), ...ids.filter((id) => !found.has(id))];
}

/** Where a server's keys are: the data directory's keys.db, or the shared schema of its PostgreSQL database. */
export interface KeyStoreLocation {
  file: string;
  busyTimeoutMs: number;
  databaseUrl?: string | undefined;
  connectTimeoutMs?: number | undefined;
  waitForDatabaseMs?: number | undefined;
}

/** Open the key store of this location. */
export async function openKeyStore(where: KeyStoreLocation): Promise<KeyStore> {
  if (where.databaseUrl) {
    const { PostgresKeyStore } = await import('./postgres-key-store.js');
    try {
      return await PostgresKeyStore.open({ url: where.databaseUrl, connectTimeoutMs: where.connectTimeoutMs, waitForDatabaseMs: where.waitForDatabaseMs });
    } catch (error) {
      if (error instanceof StartupError) throw error;
      throw new StartupError(`cannot open the API keys in the PostgreSQL database at ${redactDatabaseUrl(where.databaseUrl)}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
  }
  const { SqliteKeyStore } = await import('./sqlite-key-store.js');
  return SqliteKeyStore.open(where.file, where.busyTimeoutMs);
}
