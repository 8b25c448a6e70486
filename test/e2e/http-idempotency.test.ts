import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callError, callOk } from '../helpers/calls.js';
import { useHttpHarness } from '../helpers/http-harness.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-idem-', { args: ['--embed-model', 'none'] });

const storedId = (answer: any): string => answer.stored[0].id;

describe('idempotency keys over HTTP belong to the key that used them', () => {
  it('another key of the tenant may use the same idempotency key for a different write: no conflict, a record of its own', async () => {
    const dir = tempDataDir();
    const a = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const b = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await start(dir);
    const alice = (await connect(keyedClient(server.origin, a.key, 'agent-a'))).client;
    const bob = (await connect(keyedClient(server.origin, b.key, 'agent-b'))).client;

    const first = await callOk(alice, 'remember', { content: 'alpha owns the release checklist', idempotency_key: 'k' });
    // B cannot tell that A used "k", nor is it blocked by it.
    const own = await callOk(bob, 'remember', { content: 'bravo owns the on-call rota', idempotency_key: 'k' });
    expect(storedId(own)).not.toBe(storedId(first));
    expect((await callOk(bob, 'get_memory', { id: storedId(own) })).memories[0].content).toBe('bravo owns the on-call rota');
    // Each key's record answers its own retries, and a key still refuses reuse of its own key for another write.
    expect(await callOk(bob, 'remember', { content: 'bravo owns the on-call rota', idempotency_key: 'k' })).toEqual(own);
    expect(await callOk(alice, 'remember', { content: 'alpha owns the release checklist', idempotency_key: 'k' })).toEqual(first);
    expect(await callError(alice, 'remember', { content: 'bravo owns the on-call rota', idempotency_key: 'k' })).toMatch(/^idempotency_key "k" was already used for a different call/);
    expect((await callOk(alice, 'search_memory', { query: 'owns', mode: 'keyword' })).hits).toHaveLength(2);
  });

  it("another key sending the same arguments with the same idempotency key gets a new record of its own, never the first key's answer", async () => {
    const dir = tempDataDir();
    const a = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const b = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await start(dir);
    const alice = (await connect(keyedClient(server.origin, a.key, 'agent-a'))).client;
    const bob = (await connect(keyedClient(server.origin, b.key, 'agent-b'))).client;
    const args = { content: 'the staging database moved to eu-west-2', idempotency_key: 'shared-key' };

    const first = await callOk(alice, 'remember', args);
    const second = await callOk(bob, 'remember', args);
    expect(storedId(second)).not.toBe(storedId(first));
    expect((await callOk(bob, 'get_memory', { id: storedId(second) })).memories[0].source).toBe('agent-b');
    // A retrying still gets its first answer; so does B.
    expect(await callOk(alice, 'remember', args)).toEqual(first);
    expect(await callOk(bob, 'remember', args)).toEqual(second);
    expect((await callOk(alice, 'search_memory', { query: 'staging database', mode: 'keyword' })).hits).toHaveLength(2);
  });
});
