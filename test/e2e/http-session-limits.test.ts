import { afterAll, describe, expect, it } from 'vitest';
import { createKey, keyedClient, keyedSseClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { spawnHttp, type HttpServer } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-session-cap-');
let server: HttpServer | undefined;
afterAll(async () => {
  await server?.stop('SIGKILL');
  temp.cleanup();
});

describe('sessions per key', () => {
  it('refuses a key its next session past --max-sessions-per-key with 429, while other keys still connect', async () => {
    const alice = createKey(temp.dir, ['--tenant', 'acme', '--role', 'writer']);
    const bob = createKey(temp.dir, ['--tenant', 'acme', '--role', 'reader']);
    server = await spawnHttp(temp.dir, ['--embed-model', 'none', '--max-sessions-per-key', '2']);
    const first = await keyedClient(server.origin, alice.key);
    const second = await keyedSseClient(server.origin, alice.key);
    // Both transports count against the same key.
    await expect(keyedClient(server.origin, alice.key)).rejects.toThrow(/429|this key already has 2 open sessions/);
    const other = await keyedClient(server.origin, bob.key);
    expect((await callOk(other.client, 'search_memory', { query: 'anything' })).hits).toEqual([]);

    // Ending a session frees its place.
    await first.transport.terminateSession();
    await first.client.close();
    const again = await keyedClient(server.origin, alice.key);
    expect((await callOk(again.client, 'remember', { content: 'alice is back' })).stored).toHaveLength(1);
    for (const open of [second, other, again]) await open.client.close();
    expect(server.stderr()).not.toContain(alice.key);
  });
});
