import { connect as connectTcp } from 'node:net';
import { request, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { streamableClient } from '../helpers/spawn-http.js';

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

  it('answers requests the HTTP parser refuses with a JSON body: 431 for headers over the limit, 400 for malformed ones', async () => {
    const server = await start(tempDataDir());
    const host = `127.0.0.1:${server.port}`;
    const oversized = await rawExchange(server.port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(oversized.status).toBe(431);
    expect(oversized.head).toMatch(/\r\ncontent-type: application\/json\r\n/i);
    expect(JSON.parse(oversized.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/^Request Header Fields Too Large/) } });

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
