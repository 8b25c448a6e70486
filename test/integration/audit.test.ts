import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/store/store.js';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import { collect } from '../helpers/collect.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer({ clientName: 'audit-client' });
});
afterEach(async () => {
  await linked.close();
});

const rows = (): Promise<AuditRow[]> => collect(linked.runtime.store.exportAudit());

describe('audit trail', () => {
  it('records one row per call: success, invalid input and error, without memory text', async () => {
    const args = { content: 'The vault code is 4471', tags: ['secret'] };
    const stored = (await callOk(linked.client, 'remember', args)).stored[0];
    await callError(linked.client, 'remember', { content: 42 });
    await callError(linked.client, 'get_goal', { goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' });
    const found = (await callOk(linked.client, 'search_memory', { query: 'vault code' })).hits;
    expect(found).toHaveLength(1);

    const trail = await rows();
    expect(trail.map((r) => [r.tool, r.status, r.error_code])).toEqual([
      ['remember', 'ok', null],
      ['remember', 'invalid', 'invalid_input'],
      ['get_goal', 'error', 'not_found'],
      ['search_memory', 'ok', null],
    ]);
    const [write, , , read] = trail;
    expect(write).toMatchObject({
      client_name: 'audit-client',
      client_version: '1.2.3',
      namespace: 'default',
      args_sha256: linked.runtime.audit.fingerprint(args).sha256,
      args_bytes: linked.runtime.audit.fingerprint(args).bytes,
      ids_touched: [stored.id],
    });
    expect(read).toMatchObject({ namespace: 'default', ids_returned: [stored.id] });
    expect(new Set(trail.map((r) => r.session_id)).size).toBe(1);
    expect(trail.every((r) => r.duration_ms >= 0)).toBe(true);
    // The text itself (a digit string like 4471 can turn up inside a hex fingerprint by chance; words cannot).
    expect(JSON.stringify(trail)).not.toContain('vault code');
  });

  it('records forgotten ids', async () => {
    const id = (await callOk(linked.client, 'remember', { content: 'temporary note' })).stored[0].id;
    await callOk(linked.client, 'forget', { ids: [id] });
    expect((await rows()).at(-1)).toMatchObject({ tool: 'forget', status: 'ok', ids_touched: [id] });
  });

  it('records calls to unknown tools', async () => {
    await expect(linked.client.callTool({ name: 'drop_everything', arguments: {} })).rejects.toThrow(/^MCP error -32602: Unknown tool: drop_everything$/);
    expect((await rows()).at(-1)).toMatchObject({ tool: 'drop_everything', status: 'invalid', error_code: 'unknown_tool' });
  });
});
