import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { FINGERPRINT_SECRET_FILE, loadFingerprintSecret } from '../audit/fingerprint-secret.js';
import { canonicalJson } from '../audit/fingerprint.js';
import { createSharedSchema, SHARED_SCHEMA } from '../auth/postgres-key-store.js';

/** The schema holding what every tenant shares: the API keys and the server's settings. */
export const AUTH_SCHEMA = SHARED_SCHEMA;
/** The settings row holding the audit fingerprint secret, as 64 hex digits. */
export const SECRET_SETTING = 'audit_fingerprint_secret';

/** The columns of an API key, as keys.db stores them (src/auth/key-store.ts). */
const KEY_COLUMNS = ['id', 'name', 'tenant', 'role', 'namespaces', 'hash', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'] as const;
type KeyRow = Record<(typeof KEY_COLUMNS)[number], string | null>;

/** The data directory's API keys (hashes and all), by id; none without keys.db. */
function sourceKeys(dataDir: string, busyTimeoutMs: number): KeyRow[] {
  const file = join(dataDir, 'keys.db');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  try {
    return db.prepare(`SELECT ${KEY_COLUMNS.join(', ')} FROM api_keys ORDER BY id`).all() as KeyRow[];
  } finally {
    db.close();
  }
}

/** The data directory's audit fingerprint secret as hex, or null when no server has made one there (a damaged one is refused). */
function sourceSecret(dataDir: string): string | null {
  if (!existsSync(join(dataDir, FINGERPRINT_SECRET_FILE))) return null;
  return loadFingerprintSecret(dataDir, { create: false }).toString('hex');
}

async function targetSecret(client: pg.Client): Promise<string | null> {
  const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${AUTH_SCHEMA}.settings WHERE name = $1`, [SECRET_SETTING]);
  return rows[0]?.value ?? null;
}

export class SecretMismatch extends Error {
  override readonly name = 'SecretMismatch';
}

/**
 * Before anything is copied: make the tables, and refuse a database that
 * already holds another audit fingerprint secret (rows keyed with either
 * would stop matching `audit fingerprint`).
 */
export async function prepareAuth(client: pg.Client, dataDir: string): Promise<void> {
  await createSharedSchema(client);
  const secret = sourceSecret(dataDir);
  const present = await targetSecret(client);
  if (secret !== null && present !== null && present !== secret) {
    throw new SecretMismatch(`the database already holds another audit fingerprint secret (${AUTH_SCHEMA}.settings ${SECRET_SETTING}) than ${join(dataDir, FINGERPRINT_SECRET_FILE)}; the audit trails keyed with each cannot share one: copy into another database`);
  }
}

/**
 * Copy the API keys and the audit fingerprint secret, in one transaction.
 * A key stored already is only brought forward: revoked if either side has
 * revoked it (a revocation is never undone, wherever it was made), last
 * used at the later of the two times. Returns how many keys were added or
 * changed, and whether the secret was copied now.
 */
export async function copyAuth(client: pg.Client, dataDir: string, busyTimeoutMs: number): Promise<{ keys: number; changed: number; secret: 'copied' | 'present' | 'none' }> {
  const keys = sourceKeys(dataDir, busyTimeoutMs);
  const secret = sourceSecret(dataDir);
  let changed = 0;
  let secretState: 'copied' | 'present' | 'none' = secret === null ? 'none' : 'present';
  await client.query('BEGIN');
  try {
    for (const key of keys) {
      const inserted = await client.query(
        `INSERT INTO ${AUTH_SCHEMA}.api_keys (${KEY_COLUMNS.join(', ')}) SELECT ${KEY_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}
         WHERE NOT EXISTS (SELECT 1 FROM ${AUTH_SCHEMA}.api_keys WHERE id = $1)`,
        KEY_COLUMNS.map((column) => key[column]),
      );
      const updated = await client.query(
        `UPDATE ${AUTH_SCHEMA}.api_keys SET revoked_at = COALESCE(revoked_at, $2::text), last_used_at = GREATEST(last_used_at, $3::text)
         WHERE id = $1 AND ((revoked_at IS NULL AND $2::text IS NOT NULL) OR last_used_at IS DISTINCT FROM GREATEST(last_used_at, $3::text))`,
        [key.id, key.revoked_at, key.last_used_at],
      );
      changed += (inserted.rowCount ?? 0) + (updated.rowCount ?? 0);
    }
    if (secret !== null) {
      const stored = await client.query(
        `INSERT INTO ${AUTH_SCHEMA}.settings (name, value) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM ${AUTH_SCHEMA}.settings WHERE name = $1)`,
        [SECRET_SETTING, secret],
      );
      if ((stored.rowCount ?? 0) > 0) secretState = 'copied';
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return { keys: keys.length, changed, secret: secretState };
}

/** Compare the keys and the secret with the database's: what differs, in words (empty when identical), and how many keys there are. */
export async function verifyAuth(client: pg.Client, dataDir: string, busyTimeoutMs: number): Promise<{ keys: number; secret: boolean; differences: string[] }> {
  const source = sourceKeys(dataDir, busyTimeoutMs);
  const { rows } = await client.query<KeyRow>(`SELECT ${KEY_COLUMNS.join(', ')} FROM ${AUTH_SCHEMA}.api_keys ORDER BY id`);
  const differences: string[] = [];
  // Keys made in the database itself since are not the source's concern; the source's must all be there, as they are.
  const byId = new Map(rows.map((row) => [row.id, canonicalJson(row)]));
  const missing = source.filter((key) => !byId.has(key.id)).length;
  const changed = source.filter((key) => byId.has(key.id) && byId.get(key.id) !== canonicalJson(key)).length;
  if (missing > 0) differences.push(`${missing} API key(s) missing from the database`);
  if (changed > 0) differences.push(`${changed} API key(s) differ from keys.db`);
  const secret = sourceSecret(dataDir);
  if (secret !== null && (await targetSecret(client)) !== secret) differences.push('the audit fingerprint secret differs');
  return { keys: source.length, secret: secret !== null, differences };
}
