import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKey, keyedClient, keyedSseClient } from '../helpers/auth-clients.js';
import { callError, callOk } from '../helpers/calls.js';
import { auditOf, initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/jwt-issuer.js';
import { rawRequest } from '../helpers/spawn-http.js';
import { runCli } from '../helpers/spawn-server.js';

const { tempDataDir: tempDir, start, connect } = useHttpHarness('pinak-jwt-', { args: ['--embed-model', 'none'] });

const jwtArgs = (jwksFile: string): string[] => ['--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE, '--jwt-jwks-file', jwksFile];

describe('JWT bearer tokens', () => {
  it('serve a valid token its tenant and role, refuse every bad token with 401, audited, never echoing it', async () => {
    const dir = tempDir();
    const issuer = await testIssuer(tempDir());
    const key = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await start(dir, jwtArgs(issuer.jwksFile));
    const host = `127.0.0.1:${server.port}`;

    // A writer token of tenant acme: its tenant's data, its role's tools, over both transports.
    const writerToken = await issuer.sign({ sub: 'alice', tenant: 'acme', role: 'writer' });
    const { client, transport } = await connect(keyedClient(server.origin, writerToken));
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('forget');
    const id = (await callOk(client, 'remember', { content: 'Acme ships the falcon release on Friday' })).stored[0].id as string;
    expect(await callError(client, 'forget', { ids: [id] })).toMatch(/^forbidden: the writer role cannot call forget/);
    expect(existsSync(join(dir, 'tenants', 'acme', 'pinak.db'))).toBe(true);
    const { client: sse } = await connect(keyedSseClient(server.origin, await issuer.sign({ sub: 'bob', tenant: 'acme', role: 'reader' })));
    expect((await callOk(sse, 'search_memory', { query: 'falcon' })).hits.map((h: { id: string }) => h.id)).toEqual([id]);
    expect((await sse.listTools()).tools.map((t) => t.name)).not.toContain('remember');
    // The API keys keep working beside tokens.
    const { client: keyed } = await connect(keyedClient(server.origin, key.key));
    expect((await callOk(keyed, 'search_memory', { query: 'falcon' })).hits).toHaveLength(1);
    // Another tenant's token sees nothing.
    const { client: globex } = await connect(keyedClient(server.origin, await issuer.sign({ sub: 'carol', tenant: 'globex', role: 'admin' })));
    expect((await callOk(globex, 'search_memory', { query: 'falcon', namespace: '*' })).hits).toEqual([]);
    // The same subject with a lesser role is another principal: it cannot use the writer's session.
    const demoted = await rawRequest(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...JSON_HEADERS, host, authorization: `Bearer ${await issuer.sign({ sub: 'alice', tenant: 'acme', role: 'reader' })}`, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
      body: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}',
    });
    expect(demoted.status).toBe(404);

    const now = Math.floor(Date.now() / 1000);
    const acme = { sub: 'mallory', tenant: 'acme', role: 'admin' };
    const bad: Array<[string, string, RegExp]> = [
      [await issuer.sign({ ...acme, aud: 'another-service' }), 'wrong_audience', /not meant for this server \(aud claim\)/],
      [await issuer.sign({ ...acme, iss: 'https://evil.example.test/' }), 'wrong_issuer', /not issued by the identity provider this server trusts/],
      [await issuer.sign({ ...acme, exp: now - 300 }), 'expired_token', /has expired/],
      [await issuer.sign(acme, { key: 'stranger' }), 'bad_signature', /not signed by a key of the identity provider/],
      [await issuer.sign({ ...acme, tenant: null }), 'bad_claims', /"tenant" claim must name a tenant/],
      [await issuer.sign({ ...acme, tenant: 'Not A Tenant' }), 'bad_claims', /"tenant" claim must name a tenant/],
      [await issuer.sign({ ...acme, role: null }), 'bad_claims', /"role" claim must name a role/],
      [await issuer.sign({ ...acme, role: 'superuser' }), 'bad_claims', /"role" claim must name a role/],
      [await issuer.sign({ ...acme, exp: null }), 'bad_claims', /no "exp" claim/],
      ['eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'invalid_token', /not a valid signed JWT/],
    ];
    for (const [token, , message] of bad) {
      const answer = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host, authorization: `Bearer ${token}` }, body: initializeBody() });
      expect(answer.status, message.source).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="pinak-memory", error="invalid_token"');
      expect(answer.json().error.message).toMatch(message);
      expect(answer.body).not.toContain(token.split('.')[1]!.slice(0, 16));
    }
    const missing = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host }, body: initializeBody() });
    expect(missing.json().error.message).toMatch(/requires an API key or a bearer token from its identity provider/);

    // Each refusal is audited with its reason; a signed token's subject and tenant are kept, a forged one's are not.
    const refusals = auditOf(dir).filter((row) => row.tool === 'http POST /mcp');
    expect(refusals.map((row) => row.error_code)).toEqual([...bad.map(([, code]) => code), 'no_key']);
    expect(refusals[0]).toMatchObject({ principal_id: 'jwt:mallory', tenant: 'acme', status: 'invalid' });
    expect(refusals[3]).toMatchObject({ error_code: 'bad_signature', principal_id: null, tenant: null });
    const calls = auditOf(dir, 'acme').filter((row) => !row.tool.startsWith('http '));
    expect(calls.map((row) => [row.tool, row.principal_id, row.error_code])).toEqual([
      ['remember', 'jwt:alice', null],
      ['forget', 'jwt:alice', 'forbidden'],
      ['search_memory', 'jwt:bob', null],
      ['search_memory', key.id, null],
    ]);
    // No token reached the log or stdout.
    for (const [token] of bad) expect(server.stderr()).not.toContain(token.split('.')[2]!.slice(0, 16) || token);
    expect(server.stderr()).not.toContain(writerToken.split('.')[2]!);
    expect(server.stdout()).toBe('');
  });

  it('limit a token to the namespaces of a configured claim', async () => {
    const dir = tempDir();
    const issuer = await testIssuer(tempDir());
    const server = await start(dir, [...jwtArgs(issuer.jwksFile), '--jwt-namespaces-claim', 'pinak.namespaces', '--jwt-role-claim', 'roles']);
    const limited = await issuer.sign({ sub: 'dana', tenant: 'acme', roles: ['writer'], pinak: { namespaces: ['project-x'] } });
    const { client } = await connect(keyedClient(server.origin, limited));
    expect((await callOk(client, 'remember', { content: 'scoped note' })).stored[0].namespace).toBe('project-x');
    expect(await callError(client, 'search_memory', { query: 'note', namespace: 'other' })).toMatch(/forbidden/);
    const without = await rawRequest(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer ${await issuer.sign({ sub: 'dana', tenant: 'acme', roles: ['writer'] })}` },
      body: initializeBody(),
    });
    expect([without.status, without.json().error.message]).toEqual([401, expect.stringMatching(/"pinak\.namespaces" claim must list namespaces/)]);
  });

  it('refuse to start on a bad JWKS or incomplete settings, with one line', async () => {
    const dir = tempDir();
    const badJwks = join(dir, 'bad.json');
    writeFileSync(badJwks, 'not json');
    const cases: Array<[string[], RegExp]> = [
      [jwtArgs(join(dir, 'missing.json')), /^pinak-memory: cannot read the JWKS file .*missing\.json: ENOENT\n$/],
      [jwtArgs(badJwks), /^pinak-memory: the JWKS file .*bad\.json is not a JSON Web Key Set/],
      [['--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE], /^pinak-memory: bearer tokens need the issuer's keys: set --jwt-jwks-file or --jwt-jwks-url\n$/],
      [['--jwt-jwks-file', badJwks], /^pinak-memory: bearer tokens need --jwt-issuer and --jwt-audience/],
      [[...jwtArgs(badJwks), '--jwt-jwks-url', 'https://idp.example.test/jwks'], /^pinak-memory: set --jwt-jwks-file or --jwt-jwks-url, not both\n$/],
      [['--jwt-jwks-url', 'http://idp.example.test/jwks'], /^pinak-memory: invalid flag --jwt-jwks-url \("http:\/\/idp\.example\.test\/jwks"\): expected an https:\/\/ URL/],
    ];
    for (const [args, message] of cases) {
      const result = runCli(['--data-dir', dir, '--transport', 'http', '--port', '0', '--embed-model', 'none', '--log-level', 'warn', ...args]);
      expect([result.status, result.stdout], args.join(' ')).toEqual([1, '']);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });
});
