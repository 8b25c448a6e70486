import { statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { Goal, GoalSummary, Outcome } from '../../domain/goal.js';
import type { Memory } from '../../domain/memory.js';
import type {
  AuditRow,
  DocView,
  GoalListQuery,
  GoalRecord,
  GoalUpdate,
  KeywordHit,
  KeywordQuery,
  MemoryStore,
  PlanRecord,
  RecentQuery,
  StoreStats,
} from '../store.js';
import { AuditRows } from './audit-rows.js';
import { openDatabase } from './database.js';
import { GoalRows } from './goal-rows.js';
import { MemoryRows } from './memory-rows.js';
import { schemaVersion } from './migrator.js';
import { SearchDocs } from './search-docs.js';
import { SearchRows } from './search-rows.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  file: string;
  busyTimeoutMs: number;
}

/** The embedded backend: one SQLite file in WAL mode. */
export class SqliteStore implements MemoryStore {
  private readonly memories: MemoryRows;
  private readonly goals: GoalRows;
  private readonly search: SearchRows;
  private readonly audit: AuditRows;

  private constructor(
    private readonly db: Database,
    private readonly file: string,
  ) {
    const docs = new SearchDocs(db);
    this.memories = new MemoryRows(db, docs);
    this.goals = new GoalRows(db, docs);
    this.search = new SearchRows(db);
    this.audit = new AuditRows(db);
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    const { db } = openDatabase(options.file, options.busyTimeoutMs);
    return new SqliteStore(db, options.file);
  }

  async insertMemories(memories: readonly Memory[], searchText: readonly string[]): Promise<void> {
    this.db.transaction(() => {
      memories.forEach((memory, i) => this.memories.add(memory, searchText[i] ?? memory.content));
    }).immediate();
  }

  async getMemories(ids: readonly string[]): Promise<Memory[]> {
    return ids.flatMap((id) => {
      const memory = this.memories.get(id);
      return memory ? [memory] : [];
    });
  }

  async deleteMemories(ids: readonly string[]): Promise<string[]> {
    const now = new Date().toISOString();
    return this.db.transaction(() => ids.filter((id) => this.memories.remove(id, now))).immediate();
  }

  async createGoal(goal: GoalRecord, plan: PlanRecord | null): Promise<void> {
    this.db.transaction(() => this.goals.create(goal, plan)).immediate();
  }

  async updateGoal(update: GoalUpdate): Promise<void> {
    this.db.transaction(() => this.goals.update(update)).immediate();
  }

  async getGoal(id: string): Promise<Goal | undefined> {
    return this.goals.get(id);
  }

  async listGoals(query: GoalListQuery): Promise<GoalSummary[]> {
    return this.goals.list(query);
  }

  async activeGoalTitles(namespace: string): Promise<Array<{ id: string; title: string; description: string | null }>> {
    return this.goals.activeGoalTitles(namespace);
  }

  async recordOutcome(outcome: Outcome, memories: readonly Memory[], searchText: readonly string[], change: GoalUpdate): Promise<void> {
    this.db.transaction(() => {
      memories.forEach((memory, i) => this.memories.add(memory, searchText[i] ?? memory.content));
      this.goals.insertOutcome(outcome);
      this.goals.update(change);
    }).immediate();
  }

  async searchKeyword(query: KeywordQuery): Promise<KeywordHit[]> {
    return this.search.keyword(query);
  }

  async recent(query: RecentQuery): Promise<KeywordHit[]> {
    return this.search.recent(query);
  }

  async describeDocs(docIds: readonly number[]): Promise<DocView[]> {
    return this.search.describeDocs(docIds);
  }

  async stats(): Promise<StoreStats> {
    const group = (sql: string): Record<string, number> =>
      Object.fromEntries((this.db.prepare(sql).all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]));
    const count = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      memories_total: count('SELECT COUNT(*) AS n FROM memories'),
      by_layer: group('SELECT layer AS k, COUNT(*) AS n FROM memories GROUP BY layer'),
      by_kind: group('SELECT kind AS k, COUNT(*) AS n FROM memories GROUP BY kind ORDER BY n DESC LIMIT 50'),
      by_namespace: group('SELECT namespace AS k, COUNT(*) AS n FROM memories GROUP BY namespace ORDER BY n DESC LIMIT 50'),
      superseded: count('SELECT COUNT(*) AS n FROM memories WHERE superseded_by IS NOT NULL'),
      goals_by_status: group('SELECT status AS k, COUNT(*) AS n FROM goals GROUP BY status'),
      outcomes: count('SELECT COUNT(*) AS n FROM outcomes'),
      audit_rows: count('SELECT COUNT(*) AS n FROM audit_log'),
      database_bytes: this.fileBytes(),
      schema_version: schemaVersion(this.db),
    };
  }

  private fileBytes(): number {
    if (this.file === ':memory:') {
      const pages = this.db.pragma('page_count', { simple: true }) as number;
      const size = this.db.pragma('page_size', { simple: true }) as number;
      return pages * size;
    }
    let total = 0;
    for (const suffix of ['', '-wal']) {
      try {
        total += statSync(this.file + suffix).size;
      } catch {
        // A missing WAL file just means nothing is pending.
      }
    }
    return total;
  }

  async appendAudit(row: AuditRow): Promise<void> {
    this.audit.append(row);
  }

  exportAudit(since?: string): Iterable<AuditRow> {
    return this.audit.export(since);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
