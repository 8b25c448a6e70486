/**
 * What ranking lessons by their track record adds to a search: the one read
 * of the hits' evidence (MemoryStore.trackRecords), on a SQLite store whose
 * evidence table holds --memories procedural memories with --outcomes
 * outcomes each, timed --calls times for 10, 20 and 100 hits (a search's
 * default limit, the experience's, the largest).
 *
 *   npm run bench:track-record -- [--memories 50000] [--outcomes 3] [--calls 2000]
 *
 * Prints JSON: p50/p95/p99 in milliseconds per hit count. A search with no
 * procedural hit (every LoCoMo search) does not read at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeMachine, summarize, timed } from './stats.js';

const { values } = parseArgs({ options: { memories: { type: 'string', default: '50000' }, outcomes: { type: 'string', default: '3' }, calls: { type: 'string', default: '2000' } } });
const MEMORIES = Number(values.memories);
const OUTCOMES = Number(values.outcomes);
const CALLS = Number(values.calls);
const RESULTS = ['success', 'failure', 'partial'];

const dir = mkdtempSync(join(tmpdir(), 'pinak-bench-track-record-'));
try {
  const file = join(dir, 'pinak.db');
  // The schema, then the evidence rows written directly: the read does not look at the memories themselves.
  await SqliteStore.open({ file, busyTimeoutMs: 5000 }).close();
  const db = new Database(file);
  const insert = db.prepare(`INSERT INTO lesson_evidence (memory_id, outcome_id, goal_id, result, how, at) VALUES (?, ?, ?, ?, ?, '2025-01-01T00:00:00.000Z')`);
  db.transaction(() => {
    for (let m = 0; m < MEMORIES; m++) {
      for (let o = 0; o < OUTCOMES; o++) insert.run(`lesson-${m}`, `outcome-${m}-${o}`, `goal-${m}-${o}`, RESULTS[(m + o) % 3], o === 0 ? 'from' : 'recalled');
    }
  })();
  db.close();

  const store = SqliteStore.open({ file, busyTimeoutMs: 5000 });
  const results: Record<string, ReturnType<typeof summarize>> = {};
  for (const hits of [10, 20, 100]) {
    const ms: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      // Half of the ids have evidence, as when a search finds lessons and other procedural memories.
      const ids = Array.from({ length: hits }, (_, h) => (h % 2 === 0 ? `lesson-${(i * 7919 + h * 104_729) % MEMORIES}` : `no-evidence-${i}-${h}`));
      ms.push((await timed(() => store.trackRecords(ids))).ms);
    }
    results[`${hits} hits`] = summarize(ms);
  }
  await store.close();
  process.stdout.write(`${JSON.stringify({ bench: 'track-record', machine: describeMachine(), memories: MEMORIES, outcomes_each: OUTCOMES, calls: CALLS, read_ms: results }, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
