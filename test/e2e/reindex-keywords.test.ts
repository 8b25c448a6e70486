import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { runCli, runCliAsync, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-reindex-keywords-');
afterAll(() => temp.cleanup());

/**
 * `pinak-memory reindex --keywords` on a store whose keyword index an older
 * version wrote (the memories' text alone: no dates in words, no day terms),
 * while a server serves from it: the server finds by date what it could not
 * before, without a restart.
 */
describe('pinak-memory reindex --keywords', () => {
  it('gives a served store the dates this version indexes; the running server follows at once', async () => {
    const dir = join(temp.dir, 'store');
    const first = await spawnServer(dir, ['--embed-model', 'none']);
    const donated = (await callOk(first.client, 'remember', { content: 'I donated my old car to a shelter yesterday', layer: 'episodic', occurred_at: '2023-05-08T10:00:00Z' })).stored[0].id;
    const others = Array.from({ length: 30 }, (_, i) => ({ content: `Walked the dog along the canal, day ${i}`, layer: 'episodic', occurred_at: `2023-06-${String(i + 1).padStart(2, '0')}T09:00:00Z` }));
    const otherIds = (await callOk(first.client, 'remember', { memories: others })).stored.map((m: { id: string }) => m.id);
    await first.close();

    // As an older version left it: each row's text alone, and no word of which version wrote it.
    const db = new Database(join(dir, 'pinak.db'));
    expect(db.prepare("SELECT value FROM store_settings WHERE name = 'keyword_text_version'").pluck().get()).toBe('1');
    db.prepare('DELETE FROM store_settings').run();
    const rows = db.prepare('SELECT doc_id, content FROM memories').all() as Array<{ doc_id: number; content: string }>;
    db.transaction(() => {
      for (const row of rows) {
        db.prepare('DELETE FROM search_fts WHERE rowid = ?').run(row.doc_id);
        db.prepare('INSERT INTO search_fts (rowid, body) VALUES (?, ?)').run(row.doc_id, row.content);
      }
    })();
    db.close();

    const server = await spawnServer(dir, ['--embed-model', 'none']);
    try {
      const ask = async (): Promise<string[]> => (await callOk(server.client, 'search_memory', { query: 'What happened on 7 May 2023?', mode: 'keyword', limit: 5 })).hits.map((hit: { id: string }) => hit.id);
      expect(await ask()).not.toContain(donated);
      const notice = server.stderr().split('\n').filter((line) => line.includes('reindex --keywords'));
      expect(notice.length).toBe(1);
      expect(JSON.parse(notice[0]!)).toMatchObject({ level: 40, tenant: 'local', msg: expect.stringMatching(/^the keyword index was written by a version that did not record which/) });

      const run = await runCliAsync(['reindex', '--keywords', '--data-dir', dir]);
      expect(run.stderr).toMatch(/rewrote the keyword index of 31 record\(s\)/);
      expect(run.status).toBe(0);

      // "yesterday" on 8 May 2023 was 7 May 2023: the memory now comes first.
      expect((await ask())[0]).toBe(donated);
      // And the dates the others were told on are words of their own again.
      const june = (await callOk(server.client, 'search_memory', { query: '12 June 2023', mode: 'keyword', limit: 3 })).hits;
      expect(june[0].id).toBe(otherIds[11]);
    } finally {
      await server.close();
    }
    // Known to be this version's now: a start says nothing of it.
    const again = await spawnServer(dir, ['--embed-model', 'none']);
    await callOk(again.client, 'memory_stats');
    await again.close();
    expect(again.stderr()).toContain('database open');
    expect(again.stderr()).not.toContain('reindex --keywords');
  }, 60_000);

  it('refuses --tenant without --keywords, and a tenant that has no store', () => {
    const dir = join(temp.dir, 'refusals');
    const tenantAlone = runCli(['reindex', '--tenant', 'acme', '--data-dir', dir]);
    expect(tenantAlone.status).toBe(1);
    expect(tenantAlone.stderr.trim()).toBe('pinak-memory: --tenant goes with --keywords: embedding runs for the local tenant');
    const unknown = runCli(['reindex', '--keywords', '--tenant', 'acme', '--data-dir', dir]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^pinak-memory: tenant acme has no records in /);
  });
});
