import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditRows } from '../../src/store/sqlite/audit-rows.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { WriteLock } from '../../src/store/sqlite/write-lock.js';
import type { AuditRow } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** One database file, opened twice: `db` as the server opens it, `other` as another process's connection. */
function twoConnections(busyTimeoutMs: number): { db: Database.Database; other: Database.Database } {
  const { dir, cleanup } = makeTempDir('pinak-write-lock-');
  const file = join(dir, 'pinak.db');
  const { db } = openDatabase(file, busyTimeoutMs);
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const other = new Database(file, { timeout: 0 });
  cleanups.push(() => {
    other.close();
    db.close();
    cleanup();
  });
  return { db, other };
}

/** Count the event loop's turns while `wait` is pending: a thread asleep in SQLite's busy handler turns none. */
async function turnsWhile<T>(wait: Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  const ticker = setInterval(() => (turns += 1), 2);
  try {
    return { value: await wait, turns };
  } finally {
    clearInterval(ticker);
  }
}

const row = (tool: string): AuditRow => ({
  at: new Date().toISOString(), tool, namespace: null, client_name: 'test', client_version: '1', session_id: 'session-1',
  args_sha256: 'x', args_bytes: 2, status: 'ok', error_code: null, duration_ms: 1, ids_touched: [], ids_returned: [],
});

describe('the write lock', () => {
  it('waits for a lock another connection holds while the event loop keeps turning, then commits', async () => {
    const { db, other } = twoConnections(5_000);
    const lock = new WriteLock(db, 5_000);
    other.exec('BEGIN IMMEDIATE');
    other.prepare('INSERT INTO notes (body) VALUES (?)').run('theirs');
    const release = setTimeout(() => other.exec('COMMIT'), 150);
    const { value, turns } = await turnsWhile(lock.run(() => Number(db.prepare('INSERT INTO notes (body) VALUES (?)').run('ours').lastInsertRowid)));
    clearTimeout(release);
    expect(value).toBe(2);
    // About 75 ticks of 2 ms fit in 150 ms; asleep in the busy handler, none would.
    expect(turns).toBeGreaterThan(20);
    expect(db.inTransaction).toBe(false);
    expect(other.prepare('SELECT body FROM notes ORDER BY id').pluck().all()).toEqual(['theirs', 'ours']);
  });

  it('gives up with SQLITE_BUSY after the busy timeout, writing nothing', async () => {
    const { db, other } = twoConnections(200);
    const lock = new WriteLock(db, 200);
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const { value: error, turns } = await turnsWhile(lock.run(() => db.prepare('INSERT INTO notes (body) VALUES (?)').run('ours')).catch((e: unknown) => e));
    expect((error as { code?: string }).code).toBe('SQLITE_BUSY');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(turns).toBeGreaterThan(20);
    other.exec('COMMIT');
    expect(db.prepare('SELECT count(*) FROM notes').pluck().get()).toBe(0);
    // The connection waits again as configured for everything else.
    expect(db.pragma('busy_timeout', { simple: true })).toBe(200);
  });

  it('rolls back work that throws, and commits unsynced work with the connection back at synchronous=FULL', async () => {
    const { db } = twoConnections(1_000);
    const lock = new WriteLock(db, 1_000);
    const failed = lock.run(() => {
      db.prepare('INSERT INTO notes (body) VALUES (?)').run('half');
      throw new Error('the work failed');
    });
    await expect(failed).rejects.toThrow('the work failed');
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) FROM notes').pluck().get()).toBe(0);

    let during: unknown;
    await lock.run(() => {
      during = db.pragma('synchronous', { simple: true });
      db.prepare('INSERT INTO notes (body) VALUES (?)').run('lazy');
    }, { synced: () => false });
    expect(during).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.prepare('SELECT count(*) FROM notes').pluck().get()).toBe(1);
  });

  it('runs in a savepoint of a transaction already open on the connection', async () => {
    const { db } = twoConnections(1_000);
    const lock = new WriteLock(db, 1_000);
    db.exec('BEGIN IMMEDIATE');
    db.prepare('INSERT INTO notes (body) VALUES (?)').run('outer');
    await expect(lock.run(() => {
      db.prepare('INSERT INTO notes (body) VALUES (?)').run('inner');
      throw new Error('inner failed');
    })).rejects.toThrow('inner failed');
    expect(db.inTransaction).toBe(true);
    db.exec('COMMIT');
    expect(db.prepare('SELECT body FROM notes').pluck().all()).toEqual(['outer']);
  });
});

describe('audit rows behind a held lock', () => {
  it('queue while another connection writes, then commit together, each answered with its own sequence number', async () => {
    const { db, other } = twoConnections(5_000);
    const audit = new AuditRows(db, new WriteLock(db, 5_000));
    expect(await audit.append(row('first'), true)).toBe(1);
    other.exec('BEGIN IMMEDIATE');
    other.prepare("UPDATE audit_log SET tool = 'first, seen' WHERE seq = 1").run();
    const appended = Promise.all(Array.from({ length: 20 }, (_, i) => audit.append(row(`call ${i}`), i % 2 === 0)));
    const release = setTimeout(() => other.exec('COMMIT'), 100);
    const { value: seqs, turns } = await turnsWhile(appended);
    clearTimeout(release);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(turns).toBeGreaterThan(10);
    await audit.complete(seqs[3]!, { ...row('call 3'), status: 'error', error_code: 'boom' }, true);
    const stored = [...audit.export()];
    expect(stored.map((r) => r.tool)).toEqual(['first, seen', ...Array.from({ length: 20 }, (_, i) => `call ${i}`)]);
    expect(stored[4]).toMatchObject({ tool: 'call 3', status: 'error', error_code: 'boom', client_name: 'test' });
  });

  it('fail every queued row, not only one, when the lock is never given', async () => {
    const { db, other } = twoConnections(150);
    const audit = new AuditRows(db, new WriteLock(db, 150));
    other.exec('BEGIN IMMEDIATE');
    const outcomes = await Promise.allSettled([audit.append(row('a'), false), audit.append(row('b'), true)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    other.exec('COMMIT');
    // The next row is stored as usual.
    expect(await audit.append(row('c'), true)).toBe(1);
  });
});
