import { createHash } from 'node:crypto';
import type { Logger } from '../logging.js';
import type { AuditRow, MemoryStore } from '../store/store.js';

/** JSON with object keys sorted at every level, so equal arguments hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }) ?? 'null';
}

/** SHA-256 and UTF-8 size of the canonical form of some arguments. */
export function fingerprint(args: unknown): { sha256: string; bytes: number } {
  const text = canonicalJson(args);
  return { sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text, 'utf8') };
}

/**
 * Writes one row per tool call. A failure to audit is logged, never turned
 * into a failure of the call the user made: the write it describes already
 * committed, and the row must not take the answer down with it.
 */
export class AuditTrail {
  constructor(
    private readonly store: MemoryStore,
    private readonly logger: Logger,
  ) {}

  /** `durable`: false when the call could not have written (a read, or refused before it ran); see MemoryStore.appendAudit. */
  async record(row: AuditRow, durable = true): Promise<void> {
    try {
      await this.store.appendAudit(row, durable);
    } catch (error) {
      this.logger.error({ err: error, tool: row.tool }, 'could not write the audit row');
    }
  }
}
