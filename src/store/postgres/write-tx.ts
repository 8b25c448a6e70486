import type pg from 'pg';
import type { FtsTokenizer, TermCounts } from '../fts-tokenizer.js';

/**
 * Rows and tokens of each keyword index count every row ever indexed: FTS5
 * does not lower them when a row of a contentless table is deleted (or
 * rewritten, as thread windows are on every change to their thread), its
 * bm25() reads them so, and the scores here must be the SQLite backend's.
 * Writing the docs' index again (keyword-rewrite.ts) resets them to the
 * rows it holds, as FTS5's 'delete-all' does there.
 *
 * They are kept in a few counter rows per
 * index, each writer adding to one of them: a single counter row would make
 * every write of every server wait for the one before it to commit.
 */
export const TOTAL_SLOTS = 16;

/** One write transaction: its connection, and the counter changes it applies just before committing. */
export class WriteTx {
  private readonly totals = { docs: { rows: 0, tokens: 0 }, windows: { rows: 0, tokens: 0 } };

  constructor(
    readonly client: pg.PoolClient,
    private readonly tokenizer: FtsTokenizer,
  ) {}

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(sql, params)).rows;
  }

  count(texts: readonly string[]): TermCounts[] {
    return this.tokenizer.count(texts);
  }

  counted(index: 'docs' | 'windows', rows: number, tokens: number): void {
    this.totals[index].rows += rows;
    this.totals[index].tokens += tokens;
  }

  /** Apply the counter changes (in a fixed order: two transactions never wait on each other's counters crosswise). */
  async flush(): Promise<void> {
    const slot = Math.floor(Math.random() * TOTAL_SLOTS);
    for (const index of ['docs', 'windows'] as const) {
      const { rows, tokens } = this.totals[index];
      if (rows === 0 && tokens === 0) continue;
      await this.client.query(
        `INSERT INTO fts_totals (name, slot, rows, tokens) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name, slot) DO UPDATE SET rows = fts_totals.rows + excluded.rows, tokens = fts_totals.tokens + excluded.tokens`,
        [index, slot, rows, tokens],
      );
    }
  }
}

/**
 * Until the transaction ends, be the only writer of one thread (of a
 * namespace): an append picks the next position alone, and the windows of
 * the thread are rewritten by one transaction at a time. Two transactions
 * rewriting one window (an append and a forget in the thread) would
 * otherwise both delete it and insert it again, and the second insert fail
 * on its key (READ COMMITTED: its delete did not see the first's new row).
 */
export async function lockThread(tx: WriteTx, namespace: string, threadId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 1))', [JSON.stringify([namespace, threadId])]);
}
