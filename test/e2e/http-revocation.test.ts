import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { useHttpHarness } from '../helpers/http-harness.js';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/jwt-issuer.js';
import { runCliAsync } from '../helpers/spawn-server.js';

const { tempDataDir, start, connect, defer } = useHttpHarness('pinak-revocation-', { args: ['--embed-model', 'none'] });

/** Resolves with how long it took for `closed` to become true, or rejects after `ms`. */
async function within(ms: number, closed: () => boolean): Promise<number> {
  const started = Date.now();
  while (!closed()) {
    if (Date.now() - started > ms) throw new Error(`still open after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

/** A raw legacy SSE stream (GET /sse) with a key; `ended` turns true when the server ends the response. */
function rawStream(port: number, key: string): Promise<{ ended: () => boolean; close: () => void }> {
  return new Promise((resolve, reject) => {
    let ended = false;
    const req = request({ host: '127.0.0.1', port, path: '/sse', headers: { host: `127.0.0.1:${port}`, accept: 'text/event-stream', authorization: `Bearer ${key}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /sse answered ${res.statusCode}`));
      res.on('data', () => {});
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve({ ended: () => ended, close: () => req.destroy() });
    });
    req.on('error', () => (ended = true));
    req.end();
  });
}

describe('revoking a key', () => {
  it('closes its sessions and streams within a second, in every server process on the data directory, and frees their places', async () => {
    const dir = tempDataDir();
    const doomed = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const other = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const caps = ['--max-sessions', '3'];
    const first = await start(dir, caps);
    const second = await start(dir, caps);

    // Three sessions on the first server (its whole capacity), one of them a legacy SSE stream, and a stream on the second.
    const a = await connect(keyedClient(first.origin, doomed.key));
    const b = await connect(keyedClient(first.origin, doomed.key));
    const stream = await rawStream(first.port, doomed.key);
    const elsewhere = await rawStream(second.port, doomed.key);
    defer(() => [stream, elsewhere].forEach((s) => s.close()));
    await callOk(a.client, 'remember', { content: 'written before the revocation' });
    await expect(keyedClient(first.origin, other.key)).rejects.toThrow(/503|limit of 3 sessions/);

    const revoked = await runCliAsync(['--data-dir', dir, 'keys', 'revoke', doomed.id]);
    expect(revoked.status, revoked.stderr).toBe(0);
    // The streams end, on both servers, and the places are free for another key at once.
    const waited = await within(1500, () => stream.ended() && elsewhere.ended());
    expect(waited).toBeLessThan(1500);
    const { client } = await connect(keyedClient(first.origin, other.key));
    expect((await callOk(client, 'search_memory', { query: 'revocation' })).hits).toHaveLength(1);
    for (const server of [first, second]) expect(server.stderr()).toMatch(/closed the sessions of revoked or expired credentials/);
    // Its Streamable HTTP sessions are gone too: their next request is refused.
    await expect(b.client.callTool({ name: 'memory_stats', arguments: {} })).rejects.toThrow(/401|revoked/);
  });

  it('closes the streams of a bearer token when the token expires', async () => {
    const dir = tempDataDir();
    const issuer = await testIssuer(dir);
    const server = await start(dir, ['--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE, '--jwt-jwks-file', issuer.jwksFile]);
    const token = await issuer.sign({ tenant: 'acme', role: 'reader' }, { expiresIn: '2s' });
    const lasting = await issuer.sign({ tenant: 'acme', role: 'reader', sub: 'user-2' });
    const short = await rawStream(server.port, token);
    const long = await rawStream(server.port, lasting);
    defer(() => [short, long].forEach((s) => s.close()));
    expect(await within(5000, () => short.ended())).toBeGreaterThan(500);
    expect(long.ended()).toBe(false);
  });
});
