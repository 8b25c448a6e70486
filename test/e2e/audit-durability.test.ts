import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditRows } from '../../src/store/sqlite/audit-rows.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
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
  it('sync the row of a write, let rows of calls that changed nothing wait at most a second, and leave the connection at synchronous=FULL', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { db } = openDatabase(join(tempDir(), 'pinak.db'), 1000);
    // The rows' writer prepares its synchronous settings once: watch each time one of them runs.
    const settings: string[] = [];
    const prepare = db.prepare.bind(db);
    vi.spyOn(db, 'prepare').mockImplementation(((source: string) => {
      const statement = prepare(source);
      const setting = /^PRAGMA (synchronous = \w+)$/.exec(source)?.[1];
      if (setting === undefined) return statement;
      const run = statement.run.bind(statement);
      statement.run = ((...params: unknown[]) => {
        settings.push(setting);
        return run(...params);
      }) as typeof statement.run;
      return statement;
    }) as typeof db.prepare);
    const audit = new AuditRows(db);
    const relaxedFor = (append: () => void): boolean => {
      settings.length = 0;
      append();
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      return settings.includes('synchronous = NORMAL');
    };
    expect(relaxedFor(() => audit.append(row('remember'), true))).toBe(false);
    expect(relaxedFor(() => audit.append(row('search_memory'), false))).toBe(true);
    vi.advanceTimersByTime(500);
    expect(relaxedFor(() => audit.append(row('search_memory'), false))).toBe(true);
    // A second after the last synced row, the next one syncs, carrying the relaxed ones before it.
    vi.advanceTimersByTime(600);
    expect(relaxedFor(() => audit.append(row('search_memory'), false))).toBe(false);
    expect(relaxedFor(() => audit.append(row('get_memory'), false))).toBe(true);
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
