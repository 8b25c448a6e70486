import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/auth-clients.js';
import { initializeBody, JSON_HEADERS, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest } from '../helpers/spawn-http.js';

const { tempDataDir, start } = useHttpHarness('pinak-remote-', { args: ['--embed-model', 'none'] });

/** The JSON startup line that says where the server listens. */
const startupLine = (stderr: string): { msg: string; hint?: string } =>
  JSON.parse(stderr.split('\n').find((line) => line.includes('serving MCP over HTTP'))!);

describe('HTTP bound beyond loopback (--host 0.0.0.0)', () => {
  it('answers the probes for any Host, refuses MCP for a name not allowed with a 403 naming --allowed-hosts, and says so at startup', async () => {
    const dir = tempDataDir();
    const { key } = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await start(dir, ['--host', '0.0.0.0']);
    const line = startupLine(server.stderr());
    expect(line.hint).toMatch(/--allowed-hosts/);
    expect(line.msg).toContain(line.hint);

    // A client on another machine names this one by its address or name, never "localhost".
    const remote = { host: `memory.example.com:${server.port}` };
    for (const path of ['/healthz', '/readyz', '/healthz?verbose=1']) {
      const probe = await rawRequest(server.port, { path, headers: remote });
      expect([path, probe.status]).toEqual([path, 200]);
    }
    const refused = await rawRequest(server.port, { method: 'POST', path: '/mcp', headers: { ...JSON_HEADERS, ...remote, authorization: `Bearer ${key}` }, body: initializeBody() });
    expect(refused.status).toBe(403);
    expect(refused.json().error.message).toMatch(/Host header "memory\.example\.com:\d+" is not allowed.*start it with --allowed-hosts memory\.example\.com$/);
    // Rebinding protection still covers everything but the probes.
    for (const path of ['/metrics', '/sse', '/nothing', '/healthz/../mcp']) {
      expect([path, (await rawRequest(server.port, { path, headers: remote })).status]).toEqual([path, 403]);
    }
  });

  it('serves the names given with --allowed-hosts, and then has nothing to hint', async () => {
    const dir = tempDataDir();
    const { key } = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await start(dir, ['--host', '0.0.0.0', '--allowed-hosts', 'memory.example.com']);
    expect(startupLine(server.stderr()).hint).toBeUndefined();
    const opened = await rawRequest(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...JSON_HEADERS, host: `memory.example.com:${server.port}`, authorization: `Bearer ${key}` },
      body: initializeBody(),
    });
    expect(opened.status).toBe(200);
    expect(opened.headers['mcp-session-id']).toBeTruthy();
  });

  it('keeps the startup line of a loopback server free of the hint', async () => {
    const server = await start(tempDataDir());
    expect(startupLine(server.stderr()).hint).toBeUndefined();
  });
});
