import type pg from 'pg';
import type { Memory } from '../../domain/memory.js';
import type { StoreStats } from '../store.js';
import { schemaVersionOf } from './migrations.js';
import { query } from './pool.js';

/** memory_stats' counts of a tenant's schema: records by layer, kind and namespace, goals, outcomes, audit rows, size on disk. */
export async function storeStats(pool: pg.Pool, schema: string): Promise<StoreStats> {
  const group = async (sql: string): Promise<Record<string, number>> =>
    Object.fromEntries((await query<{ k: string; n: number }>(pool, sql)).map((r) => [r.k, r.n]));
  const count = async (sql: string, params: unknown[] = []): Promise<number> => (await query<{ n: number }>(pool, sql, params))[0]!.n;
  const [memories_total, by_layer, by_kind, by_namespace, superseded, held_for_review, goals_by_status, outcomes, audit_rows, database_bytes, schema_version] = await Promise.all([
    count('SELECT COUNT(*) AS n FROM memories'),
    group('SELECT layer AS k, COUNT(*) AS n FROM memories GROUP BY layer'),
    group('SELECT kind AS k, COUNT(*) AS n FROM memories GROUP BY kind ORDER BY n DESC LIMIT 50'),
    group('SELECT namespace AS k, COUNT(*) AS n FROM memories GROUP BY namespace ORDER BY n DESC LIMIT 50'),
    count('SELECT COUNT(*) AS n FROM memories WHERE superseded_by IS NOT NULL'),
    count('SELECT COUNT(*) AS n FROM memories WHERE held'),
    group('SELECT status AS k, COUNT(*) AS n FROM goals GROUP BY status'),
    count('SELECT COUNT(*) AS n FROM outcomes'),
    count('SELECT COUNT(*) AS n FROM audit_log'),
    count(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = $1 AND c.relkind IN ('r', 'm')`, [schema]),
    schemaVersionOf(pool, schema),
  ]);
  return { memories_total, by_layer, by_kind, by_namespace, superseded, held_for_review, goals_by_status, outcomes, audit_rows, database_bytes, schema_version };
}

/** Memories stored per day and layer since a day, for the memory browser's charts; within the namespaces given (null: all). */
export async function memoryTimeline(pool: pg.Pool, since: string, namespaces: readonly string[] | null): Promise<Array<{ day: string; layer: Memory['layer']; count: number }>> {
  if (namespaces?.length === 0) return [];
  const rows = await query<{ day: string; layer: Memory['layer']; count: string }>(
    pool,
    `SELECT substr(created_at, 1, 10) AS day, layer, COUNT(*) AS count FROM memories
     WHERE created_at >= $1${namespaces ? ' AND namespace = ANY($2::text[])' : ''} GROUP BY day, layer ORDER BY day, layer`,
    namespaces ? [since, namespaces] : [since],
  );
  return rows.map((row) => ({ day: row.day, layer: row.layer, count: Number(row.count) }));
}
