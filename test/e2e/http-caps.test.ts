import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { auditOf, initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest } from '../helpers/spawn-http.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-caps-', { args: ['--embed-model', 'none'] });

describe('shared limits', () => {
  it('caps the sessions of the keys of one tenant together, so one tenant cannot lock the others out', async () => {
    const dir = tempDataDir();
    const readers = [1, 2, 3].map(() => createKey(dir, ['--tenant', 'acme', '--role', 'reader']));
    const neighbour = createKey(dir, ['--tenant', 'globex', '--role', 'writer']);
    const server = await start(dir, ['--max-sessions', '5', '--max-sessions-per-key', '2', '--max-sessions-per-tenant', '3']);
    // Three keys of one tenant, two sessions each would be six: the tenant holds three, the server keeps room.
    await connect(keyedClient(server.origin, readers[0]!.key));
    await connect(keyedClient(server.origin, readers[0]!.key));
    await connect(keyedClient(server.origin, readers[1]!.key));
    await expect(keyedClient(server.origin, readers[1]!.key)).rejects.toThrow(/429|this tenant's keys already hold 3 open sessions/);
    await expect(keyedClient(server.origin, readers[2]!.key)).rejects.toThrow(/429|this tenant's keys already hold 3 open sessions/);
    const { client } = await connect(keyedClient(server.origin, neighbour.key));
    expect((await callOk(client, 'remember', { content: 'globex still gets in' })).stored).toHaveLength(1);
  });

  it('throttles requests without a valid credential per address, audits a bounded number, and still serves valid keys from it', async () => {
    const dir = tempDataDir();
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await start(dir);
    const post = (key: string) =>
      rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer ${key}` }, body: initializeBody() });
    const statuses: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 150; i++) statuses.push((await post(`pk_${'y'.repeat(43)}`)).status);
    const seconds = (performance.now() - started) / 1000;
    const throttled = statuses.indexOf(429);
    expect(statuses.slice(0, throttled).every((status) => status === 401)).toBe(true);
    expect(throttled).toBeGreaterThan(20);
    // Once the burst is spent, only the bucket's refill (120 a minute: 2 a second) gets through to a 401; on a busy machine the loop takes long enough for some.
    const after = statuses.slice(throttled);
    expect(after.every((status) => status === 429 || status === 401)).toBe(true);
    expect(after.filter((status) => status === 401).length).toBeLessThanOrEqual(Math.ceil(seconds * 2) + 1);
    let refusal = await post('not-a-key');
    for (let i = 0; refusal.status !== 429 && i < 5; i++) refusal = await post('not-a-key');
    expect(refusal.status).toBe(429);
    expect(refusal.headers['retry-after']).toMatch(/^\d+$/);
    expect(refusal.json().error.message).toMatch(/too many requests without a valid API key or token from this address/);
    // A valid key from the same address is not held back by the others' failures.
    expect((await post(reader.key)).status).toBe(200);
    // Refusals answered 401 are audited; the throttled ones only counted.
    expect(auditOf(dir).filter((row) => row.error_code === 'unknown_key')).toHaveLength(statuses.filter((status) => status === 401).length);
  });
});
