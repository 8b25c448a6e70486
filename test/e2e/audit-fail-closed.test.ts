import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { auditOf, initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest } from '../helpers/spawn-http.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-audit-full-', { args: ['--embed-model', 'none'] });

type CallResult = { isError?: boolean; content: Array<{ text: string }>; structuredContent?: Record<string, any> };

describe('audit trail at the size limit', () => {
  it('keeps answering and recording reads in the reserve once records are full, then refuses every call rather than answer one unrecorded', async () => {
    const dir = tempDataDir();
    const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await start(dir, ['--max-database-bytes', String(1024 * 1024), '--audit-reserve-bytes', String(64 * 1024), '--rate-limit-per-minute', '0']);
    const { client: writes } = await connect(keyedClient(server.origin, writer.key));
    const { client: reads } = await connect(keyedClient(server.origin, reader.key));

    // Fill the records' share.
    const big = 'the secret door code is 4821 and the vault opens at nine; '.repeat(150);
    const stored: string[] = [];
    let full = '';
    for (let i = 0; i < 200 && !full; i++) {
      const result = (await writes.callTool({ name: 'remember', arguments: { content: `${i} ${big}` } })) as CallResult;
      if (result.isError) full = result.content[0]!.text;
      else stored.push(result.structuredContent!.stored[0].id);
    }
    expect(full).toMatch(/database is full/);
    expect(stored.length).toBeGreaterThan(3);

    // Reads go on, each recorded in the reserve, until the reserve is full too; then calls are refused.
    let answered = 0;
    let refusal = '';
    for (let i = 0; i < 2000 && !refusal; i++) {
      const result = (await reads.callTool({ name: 'get_memory', arguments: { ids: [stored[0]] } })) as CallResult;
      if (result.isError) refusal = result.content[0]!.text;
      else {
        expect(result.structuredContent!.memories[0].content).toContain('door code');
        answered += 1;
      }
    }
    expect(answered).toBeGreaterThan(20);
    expect(refusal).toMatch(/^the audit trail cannot record this call .* so it was not answered/);
    expect(refusal).not.toContain('door code');
    // Refused from now on, reads and writes alike; a write refused for want of an audit row stores nothing.
    const search = (await reads.callTool({ name: 'search_memory', arguments: { query: 'door code' } })) as CallResult;
    expect(search.isError).toBe(true);
    expect(JSON.stringify(search)).not.toContain('4821');
    const write = (await writes.callTool({ name: 'remember', arguments: { content: 'x' } })) as CallResult;
    expect(write.isError).toBe(true);

    // Every answer that was given has its audit row.
    const rows = auditOf(dir, 'acme');
    const readRows = rows.filter((row) => row.tool === 'get_memory' && row.status === 'ok');
    expect(readRows).toHaveLength(answered);
    for (const row of readRows) expect(row.ids_returned).toEqual([stored[0]]);
    expect(rows.filter((row) => row.tool === 'remember' && row.status === 'ok')).toHaveLength(stored.length);

    // What was acknowledged survives a restart, and so does the trail.
    await server.stop();
    const again = await start(dir, ['--max-database-bytes', String(4 * 1024 * 1024)]);
    const { client } = await connect(keyedClient(again.origin, reader.key));
    expect((await callOk(client, 'memory_stats')).memories_total).toBe(stored.length);
    expect((await callOk(client, 'get_memory', { ids: stored.slice(-3) })).memories).toHaveLength(3);
    expect(auditOf(dir, 'acme').filter((row) => row.tool === 'get_memory' && row.status === 'ok')).toHaveLength(answered + 1);
  });

  it('keeps the reserve for calls: rows of refused requests may not use it, so a flood of bad keys cannot refuse everyone', async () => {
    const dir = tempDataDir();
    const operator = createKey(dir, ['--tenant', 'local', '--role', 'admin']);
    const server = await start(dir, ['--max-database-bytes', String(1024 * 1024), '--audit-reserve-bytes', String(8 * 1024), '--rate-limit-per-minute', '0']);
    const { client } = await connect(keyedClient(server.origin, operator.key));
    const big = 'the quarterly numbers are in the shared drive under finance; '.repeat(150);
    let stored = '';
    for (let i = 0; i < 200; i++) {
      const result = (await client.callTool({ name: 'remember', arguments: { content: `${i} ${big}` } })) as CallResult;
      if (result.isError) break;
      stored = result.structuredContent!.stored[0].id;
    }
    // Then small ones, until the records' share is full to the last few bytes.
    for (let i = 0; i < 2000; i++) {
      const result = (await client.callTool({ name: 'remember', arguments: { content: `note ${i}` } })) as CallResult;
      if (result.isError) break;
    }
    // Refusals from one address: the first 60 answered 401 and audited (the rest throttled), about 12 KB of rows, more than the reserve.
    for (let i = 0; i < 120; i++) {
      const refused = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer pk_${'z'.repeat(43)}` }, body: initializeBody() });
      expect([401, 429]).toContain(refused.status);
    }
    // The operator's reads are still answered and recorded. Refused rows in the reserve (12 KB of them, in 8 KB) would leave
    // room for none; how many fit in its two pages depends on where the audit table's pages split, so a few are asked.
    for (let i = 0; i < 5; i++) expect((await callOk(client, 'get_memory', { ids: [stored] })).memories).toHaveLength(1);
  });
});
