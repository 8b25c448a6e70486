import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryError } from '../../domain/errors.js';
import { MIGRATIONS } from './migrations/index.js';
import { migrate, type MigrationResult } from './migrator.js';

export interface OpenedDatabase {
  db: Database.Database;
  migration: MigrationResult;
}

/**
 * Open (creating if needed) the SQLite file with the settings every connection
 * needs: WAL so readers never block the writer, a busy timeout so several
 * processes on one file wait instead of failing, foreign keys on, and
 * synchronous=FULL so an acknowledged write survives power loss, not only a
 * process crash.
 */
export function openDatabase(file: string, busyTimeoutMs: number, maxBytes?: number): OpenedDatabase {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    try {
      // SQLite needs to create its -wal and -shm files beside the database, not only to write the file itself.
      accessSync(dirname(file), constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EACCES';
      throw new MemoryError('invalid_input', `the data directory ${dirname(file)} is not writable (${code}); pinak-memory keeps its database there`);
    }
  }
  const db = new Database(file, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    const migration = migrate(db, MIGRATIONS);
    // A size quota: past it, writes fail with SQLITE_FULL (reported as "full", nothing half-written).
    if (maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`);
    }
    return { db, migration };
  } catch (error) {
    db.close();
    throw error;
  }
}
