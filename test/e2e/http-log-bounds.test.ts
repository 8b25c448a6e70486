import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/auth-clients.js';
import { initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest } from '../helpers/spawn-http.js';

const { tempDataDir, start } = useHttpHarness('pinak-log-bounds-', { args: ['--embed-model', 'none', '--rate-limit-per-minute', '0'] });

describe('logs under hostile input', () => {
  it('clips what a client sends to about 1 KiB in any log line, and samples warnings a client can repeat at will', async () => {
    const dir = tempDataDir();
    const reader = createKey(dir, ['--tenant', 'acme', '--role', 'reader']);
    const server = await start(dir);
    const headers = { ...JSON_HEADERS, host: `127.0.0.1:${server.port}`, authorization: `Bearer ${reader.key}` };
    const opened = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers, body: initializeBody() });
    const session = { ...headers, 'mcp-session-id': String(opened.headers['mcp-session-id']), 'mcp-protocol-version': '2025-06-18' };
    const logged = (): number => Buffer.byteLength(server.stderr());

    // Stray JSON-RPC responses of 900 KB each: logged whole, twice, before the fix (9 MB for five).
    const before = logged();
    const marker = 'Z'.repeat(900_000);
    for (let i = 0; i < 5; i++) {
      const stray = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 9000 + i, result: { junk: marker } }) });
      expect(stray.status).toBe(202);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logged() - before).toBeLessThan(20 * 1024);
    for (const line of server.stderr().split('\n')) expect(line.length).toBeLessThan(8 * 1024);

    // 300 requests with a bad key wrote 622 lines before the fix.
    const linesBefore = server.stderr().split('\n').length;
    for (let i = 0; i < 300; i++) {
      const refused = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...headers, authorization: `Bearer pk_${'x'.repeat(43)}` }, body: initializeBody() });
      expect([401, 429]).toContain(refused.status);
    }
    const added = server.stderr().split('\n').slice(linesBefore - 1).filter((line) => line.trim() !== '');
    expect(added.length).toBeLessThanOrEqual(30);
    expect(added.some((line) => /HTTP request refused: not authenticated/.test(line))).toBe(true);
  });
});
