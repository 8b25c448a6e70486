import { randomBytes } from 'node:crypto';
import { openSharedPool, SHARED_SCHEMA, type SharedDatabaseSettings } from './postgres-key-store.js';

/** The settings row holding the audit fingerprint secret (64 hex digits), as the data directory's audit-fingerprint.key does for SQLite. */
export const FINGERPRINT_SECRET_SETTING = 'audit_fingerprint_secret';

/**
 * The audit fingerprint secret every server on one PostgreSQL database
 * shares, created by the first to ask (the others read that one: a server
 * keeps nothing of its own on disk, and fingerprints made by any replica
 * match). `create: false` (the CLI) refuses when none exists yet.
 */
export async function loadDatabaseSecret(settings: SharedDatabaseSettings, options: { create: boolean }): Promise<Buffer> {
  const pool = await openSharedPool(settings);
  try {
    if (options.create) {
      await pool.query(`INSERT INTO ${SHARED_SCHEMA}.settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
        FINGERPRINT_SECRET_SETTING,
        randomBytes(32).toString('hex'),
      ]);
    }
    const { rows } = await pool.query<{ value: string }>(`SELECT value FROM ${SHARED_SCHEMA}.settings WHERE name = $1`, [FINGERPRINT_SECRET_SETTING]);
    const value = rows[0]?.value;
    if (value === undefined) throw new Error('no audit fingerprint secret in the database yet: no server has run on it');
    if (!/^[0-9a-f]{64}$/.test(value)) throw new Error(`the database's audit fingerprint secret (${SHARED_SCHEMA}.settings) is damaged: it must be 64 hex digits`);
    return Buffer.from(value, 'hex');
  } finally {
    await pool.end();
  }
}
