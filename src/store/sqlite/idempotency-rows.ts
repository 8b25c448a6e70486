import type { Database, Statement } from 'better-sqlite3';
import { DuplicateRequest, madeRecord, type IdempotencyClaim } from '../../domain/errors.js';

export interface IdempotencyRecord {
  tool: string;
  args_sha256: string;
  /** The structured result of the first call, once it has been recorded. */
  result: unknown;
}

/**
 * Idempotency keys. The claim is written in the same transaction as the
 * records it guards, so a retry can never store them twice, even across a
 * crash or another process. The same transaction notes what the write made
 * (its ids); the answer replaces that note once the call has answered.
 */
export class IdempotencyRows {
  private readonly insert: Statement;
  private readonly select: Statement;
  private readonly complete: Statement;
  private readonly describe: Statement;

  constructor(db: Database) {
    this.insert = db.prepare('INSERT OR IGNORE INTO idempotency_keys (key, tool, args_sha256, created_at) VALUES (?, ?, ?, ?)');
    this.select = db.prepare('SELECT tool, args_sha256, result FROM idempotency_keys WHERE key = ?');
    // An answer replaces what the write made; it never replaces an earlier answer.
    this.complete = db.prepare(`UPDATE idempotency_keys SET result = ? WHERE key = ? AND (result IS NULL OR result LIKE '{"made":%')`);
    this.describe = db.prepare('UPDATE idempotency_keys SET result = ? WHERE key = ?');
  }

  /** Inside the caller's write transaction: claim the key or throw DuplicateRequest (rolling the write back). */
  claim(claim: IdempotencyClaim | undefined): void {
    if (!claim) return;
    if (this.insert.run(claim.key, claim.tool, claim.argsSha256, new Date().toISOString()).changes === 0) throw new DuplicateRequest(claim.key);
  }

  /** At the end of the same transaction: what the write made, for a retry whose answer was lost. */
  recordMade(claim: IdempotencyClaim | undefined, returned: unknown): void {
    const note = claim && madeRecord(claim, returned);
    if (note) this.describe.run(JSON.stringify(note), claim.key);
  }

  find(key: string): IdempotencyRecord | undefined {
    const row = this.select.get(key) as { tool: string; args_sha256: string; result: string | null } | undefined;
    return row ? { tool: row.tool, args_sha256: row.args_sha256, result: row.result === null ? null : JSON.parse(row.result) } : undefined;
  }

  recordResult(key: string, result: unknown): void {
    this.complete.run(JSON.stringify(result), key);
  }
}
