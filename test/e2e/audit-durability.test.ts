import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditRows } from '../../src/store/sqlite/audit-rows.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { WriteLock } from '../../src/store/sqlite/write-lock.js';
import type { AuditRow } from '../../src/store/store.js';
import { callOk } from '../helpers/calls.js';
import { spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temps: Array<() => void> = [];
afterEach(() => {
  vi.useRealTimers();
  temps.splice(0).forEach((cleanup) => cleanup());
});
function tempDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-audit-');
  temps.push(cleanup);
  return dir;
}

const row = (tool: string): AuditRow => ({
  at: new Date().toISOString(), tool, namespace: null, client_name: null, client_version: null, session_id: 's',
  args_sha256: 'x', args_bytes: 2, status: 'ok', error_code: null, duration_ms: 1, ids_touched: [], ids_returned: [],
});

describe('audit rows and the disk', () => {
  it('sync the row of a write, let rows of calls that changed nothing wait at most a second, and leave the connection at synchronous=FULL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { db } = openDatabase(join(tempDir(), 'pinak.db'), 1000);
    // The connection's real setting at the moment each audit row is inserted (2: FULL, 1: NORMAL).
    const levels: number[] = [];
    const prepare = db.prepare.bind(db);
    vi.spyOn(db, 'prepare').mockImplementation(((source: string) => {
      const statement = prepare(source);
      if (!source.startsWith('INSERT INTO audit_log')) return statement;
      const run = statement.run.bind(statement);
      statement.run = ((...params: unknown[]) => {
        levels.push(db.pragma('synchronous', { simple: true }) as number);
        return run(...params);
      }) as typeof statement.run;
      return statement;
    }) as typeof db.prepare);
    const audit = new AuditRows(db, new WriteLock(db, 1000));
    const relaxedFor = async (append: () => Promise<unknown>): Promise<boolean> => {
      levels.length = 0;
      await append();
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(levels).toHaveLength(1);
      return levels[0] === 1;
    };
    expect(await relaxedFor(() => audit.append(row('remember'), true))).toBe(false);
    expect(await relaxedFor(() => audit.append(row('search_memory'), false))).toBe(true);
    vi.advanceTimersByTime(500);
    expect(await relaxedFor(() => audit.append(row('search_memory'), false))).toBe(true);
    // A second after the last synced row, the next one syncs, carrying the relaxed ones before it.
    vi.advanceTimersByTime(600);
    expect(await relaxedFor(() => audit.append(row('search_memory'), false))).toBe(false);
    expect(await relaxedFor(() => audit.append(row('get_memory'), false))).toBe(true);
    expect([...audit.export()].map((r) => r.tool)).toEqual(['remember', 'search_memory', 'search_memory', 'search_memory', 'get_memory']);
    db.close();
  });

  it('lose no audit row of reads when the server is killed right after answering', async () => {
    const dataDir = tempDir();
    const server = await spawnServer(dataDir, ['--embed-model', 'none']);
    const { id } = (await callOk(server.client, 'remember', { content: 'the gate code is kept in the blue notebook' })).stored[0];
    for (let i = 0; i < 5; i++) await callOk(server.client, 'search_memory', { query: `gate code ${i}` });
    await callOk(server.client, 'get_memory', { id });
    expect(server.transport.pid).toBeGreaterThan(0);
    process.kill(server.transport.pid!, 'SIGKILL');
    await server.close().catch(() => undefined);

    // Read-write, so SQLite may recover the WAL index the killed process left, as the next start would.
    const db = new Database(join(dataDir, 'pinak.db'));
    const tools = db.prepare('SELECT tool FROM audit_log ORDER BY seq').pluck().all();
    db.close();
    expect(tools).toEqual(['remember', 'search_memory', 'search_memory', 'search_memory', 'search_memory', 'search_memory', 'get_memory']);
  });
});
