import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteKeyStore } from '../../src/auth/sqlite-key-store.js';
import { createKey, createKeyAsync, keyedClient, keyedSseClient } from '../helpers/auth-clients.js';
import { callError, callOk } from '../helpers/calls.js';
import { auditOf, auditOfAsync, initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest } from '../helpers/spawn-http.js';
import { runCli, runCliAsync } from '../helpers/spawn-server.js';

const { tempDataDir, start, connect } = useHttpHarness('pinak-auth-', { args: ['--embed-model', 'none'] });

describe('keys commands', () => {
  it('create prints the key once, list never shows it, revoke stops it; bad input is one line and exit 1', () => {
    const dir = tempDataDir();
    const created = runCli(['--data-dir', dir, 'keys', 'create', '--tenant', 'acme', '--role', 'writer', '--namespaces', 'alpha,beta', '--expires', '30d', '--name', 'ci agent']);
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^pk_[A-Za-z0-9_-]{43}\n$/);
    const key = created.stdout.trim();
    expect(created.stderr).toMatch(/^pinak-memory: created key [0-9A-Z]{26} \(tenant acme, role writer, namespaces alpha,beta, expires \d{4}-.*\); the key is shown only this once/);
    const id = /created key (\S+)/.exec(created.stderr)![1]!;
    const second = createKey(dir, ['--tenant', 'globex', '--role', 'reader']);
    expect(second.key).not.toBe(key);

    const listed = runCli(['--data-dir', dir, 'keys', 'list']);
    expect(listed.status).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+tenant\s+role\s+namespaces\s+created\s+expires\s+revoked\s+last used$/);
    expect(lines[1]).toMatch(new RegExp(`^${id}\\s+ci agent\\s+acme\\s+writer\\s+alpha,beta\\s+\\S+\\s+\\S+\\s+-\\s+never$`));
    expect(lines[2]).toMatch(/\s+globex\s+reader\s+\*\s+\S+\s+never\s+-\s+never$/);
    // Neither the keys nor anything printable of them is stored or listed.
    const stored = readFileSync(join(dir, 'keys.db')).toString('latin1') + (existsSync(join(dir, 'keys.db-wal')) ? readFileSync(join(dir, 'keys.db-wal')).toString('latin1') : '');
    for (const k of [key, second.key]) {
      expect(listed.stdout).not.toContain(k.slice(3, 20));
      expect(stored).not.toContain(k.slice(3));
    }

    const revoked = runCli(['--data-dir', dir, 'keys', 'revoke', id]);
    expect([revoked.status, revoked.stdout]).toEqual([0, '']);
    expect(revoked.stderr).toMatch(new RegExp(`^pinak-memory: key ${id} revoked at \\d{4}-`));
    expect(runCli(['--data-dir', dir, 'keys', 'revoke', id]).stderr).toMatch(/was already revoked at/);
    expect(runCli(['--data-dir', dir, 'keys', 'list']).stdout.split('\n')[1]).toMatch(/\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+never$/);

    const refused: Array<[string[], RegExp]> = [
      [['create', '--tenant', 'acme', '--role', 'owner'], /^pinak-memory: invalid --role "owner": use reader, writer, admin\n$/],
      [['create', '--tenant', 'Acme Corp', '--role', 'reader'], /^pinak-memory: invalid --tenant "Acme Corp": use 1 to 63 lower-case letters/],
      [['create', '--tenant', '../etc', '--role', 'reader'], /^pinak-memory: invalid --tenant/],
      [['create', '--role', 'reader'], /^pinak-memory: --tenant is required/],
      [['create', '--tenant', 'acme'], /^pinak-memory: --role is required/],
      [['create', '--tenant', 'acme', '--role', 'reader', '--expires', 'tomorrow'], /^pinak-memory: invalid --expires "tomorrow": use an ISO 8601 time .* or a duration such as 30d/],
      [['create', '--tenant', 'acme', '--role', 'reader', '--expires', '2001-01-01'], /^pinak-memory: invalid --expires "2001-01-01": the time is not in the future\n$/],
      [['create', '--tenant', 'acme', '--role', 'reader', '--namespaces', ','], /^pinak-memory: invalid --namespaces ""/],
      [['create', '--tenant', 'acme', '--role', 'reader', '--namespaces', 'a,*'], /^pinak-memory: invalid --namespaces entry "\*"/],
      [['revoke', 'NOPE'], /^pinak-memory: no key with id "NOPE"; pinak-memory keys list shows the ids\n$/],
      [['revoke'], /^pinak-memory: usage: pinak-memory keys create/],
      [['delete', 'x'], /^pinak-memory: usage: pinak-memory keys create/],
    ];
    for (const [args, message] of refused) {
      const result = runCli(['--data-dir', dir, 'keys', ...args]);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(runCli(['--data-dir', tempDataDir(), 'keys', 'list']).stderr).toMatch(/no API keys yet/);
  });
});

describe('HTTP with API keys', () => {
  it('refuses requests without a valid key with 401, audits each refusal, and serves valid keys their own tenant', async () => {
    const dir = tempDataDir();
    const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const revoked = createKey(dir, ['--tenant', 'acme', '--role', 'admin']);
    expect(runCli(['--data-dir', dir, 'keys', 'revoke', revoked.id]).status).toBe(0);
    const keys = SqliteKeyStore.open(join(dir, 'keys.db'), 1000);
    const expired = await keys.create({ tenant: 'acme', role: 'admin', namespaces: null, expires_at: '2020-01-01T00:00:00.000Z', name: null }, '2019-01-01T00:00:00.000Z');
    await keys.close();
    const other = createKey(dir, ['--tenant', 'globex', '--role', 'admin']);
    const server = await start(dir);
    const host = `127.0.0.1:${server.port}`;
    const post = (headers: Record<string, string>, path = '/mcp') => rawRequest(server.port, { method: 'POST', path, headers: { ...JSON_HEADERS, host, ...headers }, body: initializeBody() });

    const attempts: Array<[Record<string, string>, RegExp, string]> = [
      [{}, /requires an API key; send it as "Authorization: Bearer <key>"/, 'no_key'],
      [{ authorization: `Bearer pk_${'A'.repeat(43)}` }, /the API key is not valid/, 'unknown_key'],
      [{ authorization: 'Bearer not-even-a-key' }, /the API key is not valid/, 'unknown_key'],
      [{ authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` }, /must be "Bearer <key>"/, 'bad_header'],
      [{ authorization: `Bearer ${revoked.key}` }, /the API key was revoked/, 'revoked_key'],
      [{ authorization: `Bearer ${expired.key}` }, /the API key expired at 2020-01-01T00:00:00.000Z/, 'expired_key'],
    ];
    for (const [headers, message] of attempts) {
      const answer = await post(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="pinak-memory"/);
      expect(answer.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(message) } });
      expect(answer.body).not.toContain('pk_');
    }
    // The legacy SSE endpoints too; the probes stay open.
    expect((await rawRequest(server.port, { path: '/sse', headers: { host } })).status).toBe(401);
    expect((await post({}, '/messages?sessionId=x')).status).toBe(401);
    expect((await rawRequest(server.port, { path: '/healthz', headers: { host } })).status).toBe(200);
    expect((await rawRequest(server.port, { path: '/readyz', headers: { host } })).status).toBe(200);
    await expect(keyedClient(server.origin, undefined)).rejects.toThrow(/Unauthorized: this server requires an API key/);

    // A valid key works over both transports and sees only its tenant's records and its role's tools.
    const { client, transport } = await connect(keyedClient(server.origin, writer.key));
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('forget');
    const id = (await callOk(client, 'remember', { content: 'Acme ships the falcon release on Friday' })).stored[0].id as string;
    expect(await callError(client, 'forget', { ids: [id] })).toMatch(/^forbidden: the writer role cannot call forget/);
    const { client: sse } = await connect(keyedSseClient(server.origin, writer.key));
    expect((await callOk(sse, 'search_memory', { query: 'falcon release' })).hits.map((h: { id: string }) => h.id)).toEqual([id]);
    expect(existsSync(join(dir, 'tenants', 'acme', 'pinak.db'))).toBe(true);

    // Another tenant's key sees nothing of it, even by id, and cannot use its session.
    const { client: globex } = await connect(keyedClient(server.origin, other.key));
    expect((await callOk(globex, 'search_memory', { query: 'falcon release', namespace: '*' })).hits).toEqual([]);
    expect(await callError(globex, 'get_memory', { id })).toMatch(/no memory with id/);
    expect((await callOk(globex, 'memory_stats')).memories_total).toBe(0);
    const hijack = await rawRequest(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...JSON_HEADERS, host, authorization: `Bearer ${other.key}`, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
      body: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}',
    });
    expect([hijack.status, hijack.json().error.code]).toEqual([404, -32001]);

    // Revoking a key stops its open session at the next request.
    expect((await runCliAsync(['--data-dir', dir, 'keys', 'revoke', writer.id])).status).toBe(0);
    await expect(client.callTool({ name: 'memory_stats', arguments: {} })).rejects.toThrow(/Unauthorized/);

    // Every refusal is in the server's own trail; the tenant's trail has its calls and its keys' refusals.
    const local = auditOf(dir);
    const refusals = local.filter((row) => row.tool.startsWith('http '));
    expect(refusals.map((r) => r.error_code)).toEqual(['no_key', 'unknown_key', 'unknown_key', 'bad_header', 'revoked_key', 'expired_key', 'no_key', 'no_key', 'no_key', 'revoked_key']);
    expect(refusals.find((r) => r.error_code === 'revoked_key')).toMatchObject({ tool: 'http POST /mcp', status: 'invalid', principal_id: revoked.id, tenant: 'acme', remote_address: expect.stringMatching(/127\.0\.0\.1/) });
    expect(refusals.find((r) => r.error_code === 'unknown_key')).toMatchObject({ principal_id: null, tenant: null });
    expect(local.some((row) => !row.tool.startsWith('http '))).toBe(false);
    const acme = auditOf(dir, 'acme');
    expect(acme.map((r) => [r.tool, r.error_code])).toEqual([
      ['http POST /mcp', 'revoked_key'],
      ['http POST /mcp', 'expired_key'],
      ['remember', null],
      ['forget', 'forbidden'],
      ['search_memory', null],
      ['http POST /mcp', 'revoked_key'],
    ]);
    expect(acme[2]).toMatchObject({ principal_id: writer.id, tenant: 'acme', remote_address: expect.stringMatching(/127\.0\.0\.1/) });
    expect(auditOf(dir, 'globex').every((r) => r.principal_id === other.id)).toBe(true);
    expect(auditOf(dir, 'initech')).toEqual([]);
    const badTenant = runCli(['--data-dir', dir, 'audit', 'export', '--tenant', 'Not/A/Tenant']);
    expect([badTenant.status, badTenant.stdout, badTenant.stderr]).toEqual([1, '', expect.stringMatching(/^pinak-memory: invalid --tenant "Not\/A\/Tenant": [^\n]*\n$/)]);
    // No key reached the log.
    for (const k of [writer.key, revoked.key, expired.key, other.key]) expect(server.stderr()).not.toContain(k.slice(3));
    expect(server.stdout()).toBe('');
    // Shutdown closes the tenants' stores with the rest, and a restart serves them again.
    expect(await server.stop('SIGTERM')).toBe(0);
    const again = await start(dir);
    const { client: back } = await connect(keyedClient(again.origin, other.key));
    expect((await callOk(back, 'memory_stats')).memories_total).toBe(0);
  });

  it('without keys serves loopback as the local principal, and --auth keys requires a key even before one exists', async () => {
    const dir = tempDataDir();
    const open = await start(dir);
    const { client } = await connect(keyedClient(open.origin, undefined));
    await callOk(client, 'remember', { content: 'local note' });
    expect((await auditOfAsync(dir)).at(-1)).toMatchObject({ tool: 'remember', principal_id: 'local', tenant: 'local', remote_address: expect.stringMatching(/127\.0\.0\.1/) });
    // A key created while the server runs turns authentication on at once.
    const key = await createKeyAsync(dir, ['--tenant', 'local', '--role', 'reader']);
    await expect(client.callTool({ name: 'memory_stats', arguments: {} })).rejects.toThrow(/Unauthorized/);
    // A key of the local tenant reaches the data directory itself.
    const { client: reader } = await connect(keyedClient(open.origin, key.key));
    expect((await callOk(reader, 'search_memory', { query: 'local note' })).hits).toHaveLength(1);

    const strict = await start(tempDataDir(), ['--auth', 'keys']);
    const refused = await rawRequest(strict.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${strict.port}` }, body: initializeBody() });
    expect(refused.status).toBe(401);
    const bad = runCli(['--data-dir', dir, '--transport', 'http', '--auth', 'maybe']);
    expect([bad.status, bad.stderr]).toEqual([1, expect.stringMatching(/^pinak-memory: invalid flag --auth \("maybe"\): expected auto .* or keys .*\n$/)]);
  });

  it('limits each key to its rate with 429 and Retry-After, audited, and lets it through again after the wait', async () => {
    const dir = tempDataDir();
    const { key, id } = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const other = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await start(dir, ['--rate-limit-per-minute', '60', '--rate-limit-burst', '3']);
    const post = (k: string) =>
      rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer ${k}` }, body: initializeBody() });
    for (let i = 0; i < 3; i++) expect((await post(key)).status).toBe(200);
    const limited = await post(key);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toMatchObject({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Too Many Requests: this key may send 60 requests a minute (bursts of 3; each request of a batch counts); retry in 1 second', data: { retry_after_seconds: 1 } },
    });
    // Another key has its own bucket.
    expect((await post(other.key)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post(key)).status).toBe(200);
    expect((await post(key)).status).toBe(429);
    const rows = auditOf(dir, 'acme').filter((r) => r.error_code === 'rate_limited');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ tool: 'http POST /mcp', status: 'error', principal_id: id, tenant: 'acme' });
  });
});
