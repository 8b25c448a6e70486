import type { Database } from 'better-sqlite3';

/** One schema change. `up` runs inside a transaction and must never drop user data. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database): void;
}
