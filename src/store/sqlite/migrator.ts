import type { Database } from 'better-sqlite3';
import { MemoryError } from '../../domain/errors.js';
import type { Migration } from './migrations/migration.js';

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly string[];
}

/** The schema version recorded in the database (0 for a new file). */
export function schemaVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null } | undefined;
  return row?.v ?? 0;
}

/**
 * Bring the schema up to the newest known version. Each migration runs in its
 * own write transaction together with its bookkeeping row, so a crash leaves
 * the database at a clean version and processes starting together apply it once. A file written by a newer release is refused
 * rather than guessed at.
 */
export function migrate(db: Database, migrations: readonly Migration[]): MigrationResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const from = schemaVersion(db);
  const newest = migrations.at(-1)?.version ?? 0;
  if (from > newest) {
    throw new MemoryError(
      'conflict',
      `the database schema is version ${from}, newer than this release supports (${newest}); upgrade pinak-memory`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: string[] = [];
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    // Several processes may open a new file at once: take the write lock first,
    // then check again, so only one of them applies each migration.
    const ran = db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return false;
      migration.up(db);
      record.run(migration.version, migration.name, new Date().toISOString());
      return true;
    }).immediate();
    if (ran) applied.push(`${migration.version}-${migration.name}`);
  }
  return { from, to: Math.max(from, newest), applied };
}
