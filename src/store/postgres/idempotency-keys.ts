import type pg from 'pg';
import { DuplicateRequest, madeRecord, type IdempotencyClaim } from '../../domain/errors.js';
import type { WriteTx } from './write-tx.js';
import { query } from './pool.js';

/**
 * Idempotency keys on PostgreSQL, as IdempotencyRows on SQLite: a write
 * claims its key first in its own transaction (a second claim throws
 * DuplicateRequest, rolling it back) and notes what it made last; the
 * answer replaces the note once the call has answered.
 */
export const idempotencyKeys = {
  async claim(tx: WriteTx, claim: IdempotencyClaim): Promise<void> {
    const inserted = await tx.query(
      'INSERT INTO idempotency_keys (key, tool, args_sha256, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING key',
      [claim.key, claim.tool, claim.argsSha256, new Date().toISOString()],
    );
    if (inserted.length === 0) throw new DuplicateRequest(claim.key);
  },

  /** At the end of the same transaction: what the write made, for a retry whose answer was lost. */
  async recordMade(tx: WriteTx, claim: IdempotencyClaim, returned: unknown): Promise<void> {
    const note = madeRecord(claim, returned);
    if (note) await tx.query('UPDATE idempotency_keys SET result = $1 WHERE key = $2', [JSON.stringify(note), claim.key]);
  },

  async find(pool: pg.Pool, key: string): Promise<{ tool: string; args_sha256: string; result: unknown } | undefined> {
    const [row] = await query<{ tool: string; args_sha256: string; result: string | null }>(pool, 'SELECT tool, args_sha256, result FROM idempotency_keys WHERE key = $1', [key]);
    return row ? { tool: row.tool, args_sha256: row.args_sha256, result: row.result === null ? null : JSON.parse(row.result) } : undefined;
  },

  /** An answer replaces what the write made; it never replaces an earlier answer. */
  async recordResult(pool: pg.Pool, key: string, result: unknown): Promise<void> {
    await query(pool, `UPDATE idempotency_keys SET result = $1 WHERE key = $2 AND (result IS NULL OR result LIKE '{"made":%')`, [JSON.stringify(result), key]);
  },
};
