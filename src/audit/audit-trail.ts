import type { Logger } from '../logging.js';
import type { AuditRow, MemoryStore } from '../store/store.js';
import type { Fingerprinter } from './fingerprint.js';

export type { AuditRow } from '../store/store.js';

/** The audit trail cannot store a row: the call it describes must not be answered. */
export class AuditUnavailable extends Error {
  override readonly name = 'AuditUnavailable';
}

/** A row written before its call ran (a write's), completed once the call has ended. */
export interface OpenAuditRow {
  complete(row: AuditRow): Promise<void>;
}

/**
 * Writes one row per tool call, and fails closed: a row that cannot be
 * stored (the database at its size limit and the audit reserve used up, or
 * the disk full) rejects with AuditUnavailable, and the caller refuses the
 * call instead of answering it unrecorded. A write's row is opened before
 * the write runs, so a write is never made that could not be audited.
 */
export class AuditTrail {
  constructor(
    private readonly store: MemoryStore,
    private readonly logger: Logger,
    /** Keyed with the root data directory's secret, shared by every tenant's trail: a row's `args_sha256`. */
    readonly fingerprint: Fingerprinter,
  ) {}

  /**
   * Record a finished call. `durable`: false when the call could not have
   * written; `reserve`: false for a request refused before it reached a tool,
   * whose row may not use the size limit's reserve (see MemoryStore.appendAudit).
   */
  async record(row: AuditRow, durable = true, reserve = true): Promise<void> {
    try {
      await this.store.appendAudit(row, durable, reserve);
    } catch (error) {
      throw this.unavailable(error, row);
    }
  }

  /**
   * Open the row of a call that may write, before it runs, as it would stand
   * if the process died during the call (error "unfinished"). Completing it
   * cannot fail the call: the write has happened, and the row exists. Rejects
   * with AuditUnavailable when the row cannot be stored.
   */
  async open(row: AuditRow): Promise<OpenAuditRow> {
    let seq: number;
    try {
      // Not synced by itself: the write's own durable commit carries it to disk.
      seq = await this.store.appendAudit({ ...row, status: 'error', error_code: 'unfinished' }, false);
    } catch (error) {
      throw this.unavailable(error, row);
    }
    return {
      complete: async (done) => {
        try {
          await this.store.completeAudit(seq, done, true);
        } catch (error) {
          this.logger.error({ err: error, tool: done.tool, seq }, 'could not complete the audit row of a call; it stays marked unfinished');
        }
      },
    };
  }

  private unavailable(error: unknown, row: AuditRow): AuditUnavailable {
    this.logger.error({ err: error, tool: row.tool }, 'could not write the audit row; the call is refused');
    return new AuditUnavailable('the audit trail cannot record this call', { cause: error });
  }
}
