import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { useHttpHarness } from '../helpers/http-harness.js';
import { runCli, spawnServer } from '../helpers/spawn-server.js';

const { tempDataDir, start, connect, defer } = useHttpHarness('pinak-provenance-', { args: ['--embed-model', 'none'] });

const provenanceOf = (record: { origin: unknown; origin_ref: unknown; written_by: unknown }) => ({ origin: record.origin, origin_ref: record.origin_ref, written_by: record.written_by });

/** Two memories written by a client: one whose origin it gives, one left to the default. */
async function writeBoth(client: Client): Promise<string[]> {
  const stored = await callOk(client, 'remember', {
    memories: [
      { content: 'The ferry to Vaxholm leaves at 9:15.', origin: 'web', origin_ref: 'https://ferries.example.com/vaxholm' },
      { content: 'Booked the 9:15 ferry to Vaxholm.' },
    ],
  });
  return stored.stored.map((s: { id: string }) => s.id);
}

/** What hits and get_memory say of each id's provenance (both must agree). */
async function provenanceSeen(client: Client, ids: readonly string[]): Promise<unknown[]> {
  const { memories } = await callOk(client, 'get_memory', { ids: [...ids] });
  const { hits } = await callOk(client, 'search_memory', { query: 'ferry Vaxholm', mode: 'keyword' });
  const hitOrigin = new Map(hits.map((h: { id: string; origin: string | null }) => [h.id, h.origin]));
  return memories.map((m: { id: string; origin: string | null; origin_ref: string | null; written_by: string | null }) => {
    expect(hitOrigin.get(m.id), `hit ${m.id}`).toBe(m.origin);
    return provenanceOf(m);
  });
}

/** Export a data directory, import it into a new one, and read the ids there over stdio. */
async function throughExport(dir: string, ids: readonly string[]): Promise<unknown[]> {
  const file = join(tempDataDir(), 'backup.jsonl');
  const exported = runCli(['export', '--data-dir', dir, '--output', file]);
  expect(exported.status, exported.stderr).toBe(0);
  const target = tempDataDir();
  const imported = runCli(['import', file, '--data-dir', target, '--embed-model', 'none']);
  expect(imported.status, imported.stderr).toBe(0);
  const restored = await spawnServer(target, ['--embed-model', 'none']);
  defer(() => restored.close());
  return provenanceSeen(restored.client, ids);
}

describe('provenance end to end', () => {
  it('over stdio: what the caller set and the default (agent, written by the local principal) come back in hits and get_memory, and survive export and import', async () => {
    const dir = tempDataDir();
    const server = await spawnServer(dir, ['--embed-model', 'none']);
    defer(() => server.close());
    const ids = await writeBoth(server.client);
    const expected = [
      { origin: 'web', origin_ref: 'https://ferries.example.com/vaxholm', written_by: 'local' },
      { origin: 'agent', origin_ref: null, written_by: 'local' },
    ];
    expect(await provenanceSeen(server.client, ids)).toEqual(expected);
    await server.close();
    expect(await throughExport(dir, ids)).toEqual(expected);
  });

  it('over HTTP with a key: the writer is the key\'s id; the provenance survives export and import', async () => {
    const dir = tempDataDir();
    const writer = createKey(dir, ['--tenant', 'local', '--role', 'writer']);
    const server = await start(dir);
    const { client } = await connect(keyedClient(server.origin, writer.key));
    const ids = await writeBoth(client);
    const expected = [
      { origin: 'web', origin_ref: 'https://ferries.example.com/vaxholm', written_by: writer.id },
      { origin: 'agent', origin_ref: null, written_by: writer.id },
    ];
    expect(await provenanceSeen(client, ids)).toEqual(expected);
    await server.stop();
    expect(await throughExport(dir, ids)).toEqual(expected);
  });

  it('import: new memories are the importer\'s (origin import, written by the local principal, unless a line says otherwise); a backup written before provenance imports as not recorded', async () => {
    const dir = tempDataDir();
    const lines = join(tempDataDir(), 'lines.jsonl');
    writeFileSync(
      lines,
      [
        JSON.stringify({ content: 'Imported: the ferry runs all year.' }),
        JSON.stringify({ content: 'Imported from a page: winter timetable.', origin: 'web', origin_ref: 'https://ferries.example.com/winter' }),
        JSON.stringify({ content: 'Imported, saying so: summer timetable.', origin: 'import' }),
        // A line of a version 2 backup: no provenance.
        JSON.stringify({ type: 'memory', id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', layer: 'semantic', kind: 'note', content: 'An old ferry note.', tags: [], metadata: {}, importance: 0.5, namespace: 'default', source: null, goal_id: null, occurred_at: '2024-01-01T00:00:00.000Z', created_at: '2024-01-01T00:00:00.000Z', updated_at: '2024-01-01T00:00:00.000Z', supersedes: null, superseded_by: null, thread_id: null, thread_position: null }),
      ].join('\n'),
    );
    const imported = runCli(['import', lines, '--data-dir', dir, '--embed-model', 'none']);
    expect(imported.status, imported.stderr).toBe(0);
    const server = await spawnServer(dir, ['--embed-model', 'none']);
    defer(() => server.close());
    const { hits } = await callOk(server.client, 'search_memory', { query: 'ferry timetable note', mode: 'keyword', limit: 10 });
    const { memories } = await callOk(server.client, 'get_memory', { ids: hits.map((h: { id: string }) => h.id) });
    const byContent = Object.fromEntries(memories.map((m: { content: string; origin: unknown; origin_ref: unknown; written_by: unknown }) => [m.content, provenanceOf(m)]));
    expect(byContent).toEqual({
      'Imported: the ferry runs all year.': { origin: 'import', origin_ref: null, written_by: 'local' },
      'Imported from a page: winter timetable.': { origin: 'web', origin_ref: 'https://ferries.example.com/winter', written_by: 'local' },
      'Imported, saying so: summer timetable.': { origin: 'import', origin_ref: null, written_by: 'local' },
      'An old ferry note.': { origin: null, origin_ref: null, written_by: null },
    });
    const resource = await server.client.readResource({ uri: 'pinak://memory/01JD3Z6Q6H8W1V8N2X4C5B7E9F' });
    expect((resource.contents[0] as { text: string }).text).toContain('from: not recorded');
    await server.close();
    const again = runCli(['export', '--data-dir', dir]);
    expect(again.stdout.split('\n')[0]).toContain('"version":4');
  });
});
