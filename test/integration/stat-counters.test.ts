import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations/index.js';
import { migrate } from '../../src/store/sqlite/migrator.js';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { seededRandom } from '../helpers/sentences.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What memory_stats must say, counted the slow way straight from the rows. */
function truth(file: string) {
  const db = new Database(file, { readonly: true });
  const group = (column: string) =>
    Object.fromEntries((db.prepare(`SELECT ${column} AS k, COUNT(*) AS n FROM memories GROUP BY ${column}`).all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]));
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const result = {
    memories_total: count('SELECT COUNT(*) AS n FROM memories'),
    by_layer: group('layer'),
    by_kind: group('kind'),
    by_namespace: group('namespace'),
    superseded: count('SELECT COUNT(*) AS n FROM memories WHERE superseded_by IS NOT NULL'),
    audit_rows: count('SELECT COUNT(*) AS n FROM audit_log'),
    records: count('SELECT COUNT(*) AS n FROM search_docs'),
    vectors_by_model: Object.fromEntries(
      (db.prepare('SELECT model_key AS k, COUNT(*) AS n FROM doc_vectors GROUP BY model_key').all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]),
    ),
  };
  db.close();
  return result;
}

describe('memory_stats counters', () => {
  it('match a full count after a seeded mix of stores, supersedes, forgets and restores', async () => {
    const linked: Linked = await linkedServer({ embedder: true });
    cleanups.push(() => linked.close());
    const random = seededRandom(8);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const alive: string[] = [];
    for (let step = 0; step < 120; step++) {
      const roll = random();
      if (roll < 0.55 || alive.length < 3) {
        const memories = Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({
          content: `note ${step} ${random()}`,
          layer: pick(['semantic', 'episodic', 'procedural'] as const),
          kind: pick(['fact', 'event', 'howto', 'lesson']),
          namespace: pick(['alpha', 'beta', 'gamma']),
        }));
        alive.push(...(await callOk(linked.client, 'remember', { memories })).stored.map((m: { id: string }) => m.id));
      } else if (roll < 0.75) {
        const old = pick(alive);
        const { memories } = await callOk(linked.client, 'get_memory', { id: old });
        const replacement = (await callOk(linked.client, 'remember', { content: `update ${step}`, supersedes: old, namespace: memories[0].namespace })).stored[0].id;
        alive.push(replacement);
      } else {
        // Forgetting a replacement brings back what it had superseded.
        const gone = alive.splice(Math.floor(random() * alive.length), 1)[0]!;
        await callOk(linked.client, 'forget', { ids: [gone] });
      }
    }
    // Goals and their steps are searchable records with vectors too.
    await callOk(linked.client, 'remember_goal', { title: 'Count everything', plan: [{ title: 'Count the memories' }, { title: 'Count the vectors' }] });
    const stats = await callOk(linked.client, 'memory_stats');
    const { records, vectors_by_model: vectors, ...expected } = truth(join(linked.dir, 'pinak.db'));
    // The stats call itself is audited after it answers.
    expect({ ...stats, audit_rows: stats.audit_rows + 1 }).toMatchObject(expected);
    expect(stats.embedding).toMatchObject({ records, embedded: vectors[stats.embedding.model_key] });
    expect(records).toBeGreaterThan(expected.memories_total);
    expect(expected.superseded).toBeGreaterThan(0);
    expect(expected.memories_total).toBeGreaterThan(100);
  });

  it('are filled from the rows already there when the database is upgraded', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'pinak.db');
    const old = new Database(file);
    migrate(old, MIGRATIONS.filter((m) => m.version < 8));
    let doc = 0;
    const add = (id: string, namespace: string, layer: string, supersededBy: string | null): void => {
      doc += 1;
      old.prepare(`INSERT INTO search_docs (doc_id, type, entity_id, namespace, layer, kind, occurred_at, created_at) VALUES (?, 'memory', ?, ?, ?, 'fact', 't', 't')`).run(doc, id, namespace, layer);
      old.prepare(`INSERT INTO memories (id, doc_id, namespace, layer, kind, content, tags, metadata, importance, occurred_at, created_at, updated_at, superseded_by)
        VALUES (?, ?, ?, ?, 'fact', 'x', '[]', '{}', 0.5, 't', 't', 't', ?)`).run(id, doc, namespace, layer, supersededBy);
    };
    add('M1', 'a', 'semantic', 'M2');
    add('M2', 'a', 'semantic', null);
    add('M3', 'b', 'episodic', null);
    old.close();
    const { db } = openDatabase(file, 1000);
    db.close();
    const expected = truth(file);
    const counted = new Database(file, { readonly: true });
    const rows = counted.prepare('SELECT namespace, layer, superseded, n FROM memory_counts ORDER BY 1, 2, 3').all();
    expect(counted.prepare("SELECT n FROM row_counts WHERE name = 'search_docs'").get()).toEqual({ n: 3 });
    counted.close();
    expect(rows).toEqual([
      { namespace: 'a', layer: 'semantic', superseded: 0, n: 1 },
      { namespace: 'a', layer: 'semantic', superseded: 1, n: 1 },
      { namespace: 'b', layer: 'episodic', superseded: 0, n: 1 },
    ]);
    expect(expected.memories_total).toBe(3);
  });
});
