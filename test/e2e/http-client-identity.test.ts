import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { auditOf, useHttpHarness } from '../helpers/http-harness.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-client-id-', { args: ['--embed-model', 'none'] });

/** An SDK client that introduces itself with this name and version. */
async function clientNamed(origin: string, key: string, name: string, version: string): Promise<{ client: Client }> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', origin), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  const client = new Client({ name, version });
  await client.connect(transport);
  return { client };
}

/** The logical size of a database file (its pages, the WAL's included), read while the server runs. */
function databaseBytes(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  } finally {
    db.close();
  }
}

describe('client identity', () => {
  it('bounds the client name and version a session sends, stores them once per session, and keeps them out of records past the source limit', async () => {
    const dir = tempDataDir();
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await start(dir);
    const hugeName = 'n'.repeat(900_000);
    const tenantDb = join(dir, 'tenants', 'acme', 'pinak.db');

    const { client: seed } = await connect(clientNamed(server.origin, writer.key, 'seed', '1'));
    await callOk(seed, 'remember', { content: 'the release train leaves on Thursdays' });
    const before = databaseBytes(tenantDb);

    const { client: noisy } = await connect(clientNamed(server.origin, reader.key, hugeName, `9.9\u0007${'v'.repeat(200)}`));
    for (let i = 0; i < 20; i++) expect((await callOk(noisy, 'search_memory', { query: 'release train' })).hits).toHaveLength(1);
    // Twenty searches add twenty small rows, not twenty copies of a 900 KB name (18 MB before the fix).
    expect(databaseBytes(tenantDb) - before).toBeLessThan(64 * 1024);

    const { client: writes } = await connect(clientNamed(server.origin, writer.key, `agent\u0000one\n${hugeName}`, '2'));
    const stored = (await callOk(writes, 'remember', { content: 'tiny' })).stored[0].id as string;
    const [memory] = (await callOk(writes, 'get_memory', { ids: [stored] })).memories;
    expect(memory.content).toBe('tiny');
    // The default source is the client's name, bounded like any source: 128 characters, control characters replaced.
    expect(memory.source).toBe(`agent\uFFFDone\uFFFD${'n'.repeat(118)}`);

    const rows = auditOf(dir, 'acme').filter((row) => row.tool === 'search_memory');
    expect(rows).toHaveLength(20);
    for (const row of rows) {
      expect(row.client_name).toBe('n'.repeat(128));
      expect(row.client_version).toBe(`9.9\uFFFD${'v'.repeat(124)}`);
    }
    // Stored once for the session, not on each row.
    const db = new Database(tenantDb, { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) FROM audit_log WHERE tool = 'search_memory' AND client_name IS NOT NULL").pluck().get()).toBe(0);
      expect(db.prepare('SELECT count(*) FROM audit_sessions WHERE length(client_name) = 128').pluck().get()).toBe(2);
    } finally {
      db.close();
    }
  });
});
