import { statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { StoreStats } from '../store.js';
import { schemaVersion } from './migrator.js';

/** What memory_stats reports: counts from trigger-kept counters (migration 0008), not scans, and the file's size. */
export function storeStats(db: Database, file: string): StoreStats {
  const group = (sql: string): Record<string, number> =>
    Object.fromEntries((db.prepare(sql).all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]));
  const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
  const counts = 'SELECT {k} AS k, SUM(n) AS n FROM memory_counts GROUP BY {k} HAVING SUM(n) > 0';
  return {
    memories_total: count('SELECT COALESCE(SUM(n), 0) AS n FROM memory_counts'),
    by_layer: group(counts.replaceAll('{k}', 'layer')),
    by_kind: group(`${counts.replaceAll('{k}', 'kind')} ORDER BY n DESC LIMIT 50`),
    by_namespace: group(`${counts.replaceAll('{k}', 'namespace')} ORDER BY n DESC LIMIT 50`),
    superseded: count('SELECT COALESCE(SUM(n), 0) AS n FROM memory_counts WHERE superseded = 1'),
    // The partial index memories_held (migration 0017) holds just these rows.
    held_for_review: count('SELECT COUNT(*) AS n FROM memories WHERE held = 1'),
    goals_by_status: group('SELECT status AS k, COUNT(*) AS n FROM goals GROUP BY status'),
    outcomes: count('SELECT COUNT(*) AS n FROM outcomes'),
    audit_rows: count("SELECT COALESCE((SELECT n FROM row_counts WHERE name = 'audit_log'), 0) AS n"),
    database_bytes: fileBytes(db, file),
    schema_version: schemaVersion(db),
  };
}

/** The database file and its WAL on disk (pages in use for an in-memory one). */
function fileBytes(db: Database, file: string): number {
  if (file === ':memory:') return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(file + suffix).size;
    } catch {
      // A missing WAL file just means nothing is pending.
    }
  }
  return total;
}
