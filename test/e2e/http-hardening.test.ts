import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { SqliteKeyStore } from '../../src/auth/sqlite-key-store.js';
import { keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { auditOf, initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/jwt-issuer.js';
import { rawRequest, streamableClient } from '../helpers/spawn-http.js';
import { runCli } from '../helpers/spawn-server.js';

const { tempDataDir, start, connect, defer } = useHttpHarness('pinak-hardening-', { args: ['--embed-model', 'none'] });

/** A remember call whose content holds bytes that are not UTF-8 (0xff, and a cut-off three-byte sequence). */
function rememberWithInvalidBytes(id: number, word: string): Buffer {
  const [before, after] = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'remember', arguments: { content: `${word} SPLIT here` } } }).split('SPLIT');
  return Buffer.concat([Buffer.from(before!), Buffer.from([0xff, 0x20, 0xe2, 0x82]), Buffer.from(after!)]);
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request whose body is sent as these exact bytes. */
function postBytes(port: number, path: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Write these bytes on a fresh TCP connection and read everything until the server closes it. */
function rawExchange(port: number, bytes: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: split === -1 ? '' : text.slice(split + 4) });
    });
    socket.end(bytes);
  });
}

/** A legacy SSE stream opened by hand: the endpoint it announces, and the events it carries. */
function openRawSse(port: number): Promise<{ endpoint: string; events: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'GET', path: '/sse', headers: { accept: 'text/event-stream' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        const endpoint = /event: endpoint\ndata: (\S+)/.exec(text)?.[1];
        if (endpoint) resolve({ endpoint, events: () => text, close: () => req.destroy() });
      });
    });
    req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
    req.end();
  });
}

describe('HTTP hardening', () => {
  it('refuses a POST body that is not valid UTF-8 with 400 on /mcp and /messages, storing nothing', async () => {
    const server = await start(tempDataDir());
    const host = `127.0.0.1:${server.port}`;
    const { client, transport } = await connect(streamableClient(server.origin));

    const streamable = await postBytes(
      server.port,
      '/mcp',
      { ...JSON_HEADERS, host, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
      rememberWithInvalidBytes(5, 'quokka'),
    );
    expect(streamable.status).toBe(400);
    expect(streamable.headers['content-type']).toBe('application/json');
    expect(JSON.parse(streamable.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/not valid UTF-8/) } });

    // The legacy transport, on a session that has been initialized, so a call that got through would run.
    const sse = await openRawSse(server.port);
    defer(() => sse.close());
    const post = (body: Buffer): Promise<Answer> => postBytes(server.port, sse.endpoint, { 'content-type': 'application/json', host }, body);
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } } };
    expect((await post(Buffer.from(JSON.stringify(init)))).status).toBe(202);
    expect((await post(Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })))).status).toBe(202);
    const legacy = await post(rememberWithInvalidBytes(6, 'wombat'));
    expect(legacy.status).toBe(400);
    expect(JSON.parse(legacy.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/not valid UTF-8/) } });
    // The same call in valid UTF-8 is served on that session: the refusal was about the bytes only.
    expect((await post(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'remember', arguments: { content: 'numbat here' } } })))).status).toBe(202);

    const stored = async (word: string): Promise<number> => (await callOk(client, 'search_memory', { query: word, mode: 'keyword' })).hits.length;
    await expect.poll(() => stored('numbat')).toBe(1);
    expect(await stored('quokka')).toBe(0);
    expect(await stored('wombat')).toBe(0);
    expect((await callOk(client, 'memory_stats')).memories_total).toBe(1);
  });

  it('refuses a request with two Host headers with 400, even when the first is allowed', async () => {
    const server = await start(tempDataDir());
    const allowed = `127.0.0.1:${server.port}`;
    for (const hosts of [[allowed, 'evil.example'], [allowed, allowed]]) {
      const answer = await rawExchange(server.port, `GET /healthz HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}Connection: close\r\n\r\n`);
      expect(answer.status, hosts.join(' + ')).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/2 Host headers; send exactly one/) } });
    }
    // One Host header is served as before.
    const single = await rawExchange(server.port, `GET /healthz HTTP/1.1\r\nHost: ${allowed}\r\nConnection: close\r\n\r\n`);
    expect([single.status, JSON.parse(single.body)]).toEqual([200, { status: 'ok' }]);
  });

  it('answers requests the HTTP parser refuses with a JSON body: 431 for headers over the limit, 413 for chunk extensions over it, 400 for malformed ones', async () => {
    const server = await start(tempDataDir());
    const host = `127.0.0.1:${server.port}`;
    const oversized = await rawExchange(server.port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(oversized.status).toBe(431);
    expect(oversized.head).toMatch(/\r\ncontent-type: application\/json\r\n/i);
    expect(JSON.parse(oversized.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/^Request Header Fields Too Large/) } });

    // A body whose chunk extensions are over Node's limit is refused while it is read, after routing began.
    const extensions = await rawExchange(server.port, `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(20_000)}\r\nx\r\n0\r\n\r\n`);
    expect(extensions.status).toBe(413);
    expect(JSON.parse(extensions.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/^Payload Too Large/) } });

    for (const malformed of ['NOT AN HTTP REQUEST\r\n\r\n', `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nBad Header Line\r\n\r\n`, `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n`]) {
      const answer = await rawExchange(server.port, malformed);
      expect(answer.status, JSON.stringify(malformed)).toBe(400);
      expect(JSON.parse(answer.body), JSON.stringify(malformed)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/^Bad Request/) } });
    }
    // Still serving.
    const after = await rawExchange(server.port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(after.status).toBe(200);
  });
});

const jwtArgs = (jwksFile: string): string[] => ['--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE, '--jwt-jwks-file', jwksFile];

describe('tokens and tenant names', () => {
  it('refuses a token naming the tenant local (its data and /metrics) unless --jwt-allow-local-tenant is set', async () => {
    const dir = tempDataDir();
    const issuer = await testIssuer(tempDataDir());
    const operatorToken = await issuer.sign({ sub: 'ops', tenant: 'local', role: 'admin' });
    const initialize = (port: number, token: string) =>
      rawRequest(port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` }, body: initializeBody() });
    const scrape = (port: number, token: string) => rawRequest(port, { path: '/metrics', headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` } });

    const server = await start(dir, jwtArgs(issuer.jwksFile));
    for (const answer of [await initialize(server.port, operatorToken), await scrape(server.port, operatorToken)]) {
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="pinak-memory", error="invalid_token"');
      expect(answer.json().error.message).toMatch(/^Unauthorized: the bearer token's "tenant" claim names the tenant "local", the server's own data directory, which tokens may not reach; .*--jwt-allow-local-tenant/);
    }
    // Tokens of other tenants are served as before.
    const { client: acme } = await connect(keyedClient(server.origin, await issuer.sign({ sub: 'ann', tenant: 'acme', role: 'writer' })));
    await callOk(acme, 'remember', { content: 'acme keeps its own notes' });
    await server.stop();
    expect(auditOf(dir).filter((row) => row.tool.startsWith('http ')).map((row) => [row.tool, row.error_code, row.principal_id, row.tenant])).toEqual([
      ['http POST /mcp', 'bad_claims', 'jwt:ops', 'local'],
      ['http GET /metrics', 'bad_claims', 'jwt:ops', 'local'],
    ]);

    // The operator who relies on it turns it on: the token reaches the data directory itself, and /metrics.
    const allowing = await start(dir, [...jwtArgs(issuer.jwksFile), '--jwt-allow-local-tenant', 'true']);
    const { client: operator } = await connect(keyedClient(allowing.origin, operatorToken));
    await callOk(operator, 'remember', { content: 'the operator note' });
    expect(existsSync(join(dir, 'tenants', 'local'))).toBe(false);
    expect((await scrape(allowing.port, operatorToken)).status).toBe(200);
    expect(auditOf(dir).filter((row) => row.tool === 'remember').map((row) => [row.principal_id, row.tenant])).toEqual([['jwt:ops', 'local']]);
  });

  it('refuse tenant names Windows reserves for devices, in new keys and in tokens, and keep an existing tenant of such a name working', async () => {
    const dir = tempDataDir();
    for (const tenant of ['con', 'prn', 'aux', 'nul', 'com1', 'com9', 'lpt1', 'lpt9']) {
      const result = runCli(['--data-dir', dir, 'keys', 'create', '--tenant', tenant, '--role', 'reader']);
      expect([result.status, result.stdout], tenant).toEqual([1, '']);
      expect(result.stderr, tenant).toMatch(new RegExp(`^pinak-memory: invalid --tenant "${tenant}": con, prn, aux, nul, com0-com9 and lpt0-lpt9 are device names on Windows[^\n]*\n$`));
    }
    // Names that only start like one are fine.
    for (const tenant of ['console', 'com10', 'auxiliary', 'nul1']) expect(runCli(['--data-dir', dir, 'keys', 'create', '--tenant', tenant, '--role', 'reader']).status, tenant).toBe(0);

    // A key made before the rule (on a system where the directory can exist) keeps its tenant's data.
    const store = SqliteKeyStore.open(join(dir, 'keys.db'), 2000);
    const old = await store.create({ tenant: 'con', role: 'writer', namespaces: null, expires_at: null, name: 'made earlier' }, new Date().toISOString());
    await store.close();
    const issuer = await testIssuer(tempDataDir());
    const server = await start(dir, jwtArgs(issuer.jwksFile));
    const { client } = await connect(keyedClient(server.origin, old.key));
    await callOk(client, 'remember', { content: 'written by an existing key' });
    expect(existsSync(join(dir, 'tenants', 'con', 'pinak.db'))).toBe(true);

    // A token may not bring a new one in.
    const answer = await rawRequest(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer ${await issuer.sign({ sub: 'eve', tenant: 'aux', role: 'writer' })}` },
      body: initializeBody(),
    });
    expect(answer.status).toBe(401);
    expect(answer.json().error.message).toMatch(/"tenant" claim cannot name this tenant: con, prn, aux, nul, com0-com9 and lpt0-lpt9 are device names on Windows/);
    expect(existsSync(join(dir, 'tenants', 'aux'))).toBe(false);
  });

  it('refuses to start on a JWKS file without a usable public key, or holding private key material, with one line', async () => {
    const dir = tempDataDir();
    const ec = await generateKeyPair('ES256', { extractable: true });
    const publicEc = await exportJWK(ec.publicKey);
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const jwks = (name: string, body: unknown): string => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(body));
      return file;
    };
    const noKey = /no public key that can check tokens/;
    const cases: Array<[string, RegExp]> = [
      [jwks('empty', { keys: [] }), /no public key that can check tokens: its "keys" list is empty\n$/],
      [jwks('encryption-only', { keys: [{ ...publicEc, use: 'enc' }] }), noKey],
      [jwks('other-algorithm', { keys: [{ ...publicEc, alg: 'ECDH-ES' }, { ...publicEc, alg: 'HS256' }] }), noKey],
      [jwks('verify-not-allowed', { keys: [{ ...publicEc, key_ops: ['encrypt'] }] }), noKey],
      [jwks('malformed', { keys: [{ kty: 'RSA', e: 'AQAB' }, { kty: 'EC', crv: 'P-256', x: 'not-a-point' }, { kty: 'nonsense' }] }), noKey],
      [jwks('weak-rsa', { keys: [{ ...weakRsa, alg: 'RS256' }] }), noKey],
      [jwks('shared-secret', { keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', alg: 'HS256' }] }), /holds private or secret key material \("k" in key 1\)/],
      [jwks('private-ec', { keys: [publicEc, { ...(await exportJWK(ec.privateKey)), kid: 'signing-2025' }] }), /holds private or secret key material \("d" in key "signing-2025"\)/],
    ];
    for (const [file, message] of cases) {
      const result = runCli(['--data-dir', dir, '--transport', 'http', '--port', '0', '--embed-model', 'none', '--log-level', 'warn', ...jwtArgs(file)]);
      expect([result.status, result.stdout], file).toEqual([1, '']);
      expect(result.stderr, file).toMatch(/^pinak-memory: the JWKS file \S+ (?:has|holds) [^\n]*\n$/);
      expect(result.stderr, file).toMatch(message);
      expect(result.stderr, file).not.toContain(String((await exportJWK(ec.privateKey)).d));
    }
    // A usable key among unusable ones is enough.
    const issuer = await testIssuer(tempDataDir());
    const mixed = jwks('mixed', { keys: [{ ...publicEc, use: 'enc' }, ...(JSON.parse(readFileSync(issuer.jwksFile, 'utf8')) as { keys: unknown[] }).keys] });
    const server = await start(dir, jwtArgs(mixed));
    const { client } = await connect(keyedClient(server.origin, await issuer.sign({ sub: 'ann', tenant: 'acme', role: 'reader' })));
    expect((await callOk(client, 'search_memory', { query: 'anything' })).hits).toEqual([]);
  });
});
