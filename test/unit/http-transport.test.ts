import type { IncomingMessage } from 'node:http';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.js';
import { LOCAL_PRINCIPAL } from '../../src/domain/principal.js';
import { createLogger } from '../../src/logging.js';
import { checkBindAddress, HttpStartError, isLoopbackHost } from '../../src/transports/http/bind-policy.js';
import { CallLimitedTransport } from '../../src/transports/http/call-limit.js';
import { headerPolicy } from '../../src/transports/http/guards.js';
import { SessionRegistry, type HttpSession } from '../../src/transports/http/sessions.js';

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe('HTTP bind policy', () => {
  it('knows loopback addresses in their usual spellings', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'LocalHost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', 'example.com', 'localhost.example.com', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses any other address with one line unless API keys are required', () => {
    expect(() => checkBindAddress('127.0.0.1', false)).not.toThrow();
    expect(() => checkBindAddress('0.0.0.0', false)).toThrow(HttpStartError);
    expect(() => checkBindAddress('0.0.0.0', false)).toThrow(/^refusing to listen on 0\.0\.0\.0: without authentication[^\n]*keys create[^\n]*$/);
    expect(() => checkBindAddress('0.0.0.0', true)).not.toThrow();
    expect(() => checkBindAddress('::', true)).not.toThrow();
  });
});

describe('Host and Origin allowlist', () => {
  const policy = headerPolicy('127.0.0.1', () => 7878, ['memory.internal', 'proxy.local:8443'], ['https://app.example.com']);

  it('accepts the loopback names with the listening port, and no Origin or a loopback one', () => {
    for (const host of ['localhost:7878', '127.0.0.1:7878', '[::1]:7878', 'LOCALHOST:7878']) expect(policy.refusal(request({ host })), host).toBeNull();
    expect(policy.refusal(request({ host: 'localhost:7878', origin: 'http://localhost:7878' }))).toBeNull();
    expect(policy.refusal(request({ host: 'localhost:7878', origin: 'http://[::1]:7878' }))).toBeNull();
  });

  it('refuses other hosts, other ports, a missing Host and foreign origins', () => {
    expect(policy.refusal(request({ host: 'evil.example:7878' }))).toMatch(/Host header "evil\.example:7878" is not allowed/);
    expect(policy.refusal(request({ host: 'localhost:7879' }))).toMatch(/Host header/);
    expect(policy.refusal(request({ host: 'localhost' }))).toMatch(/Host header/);
    expect(policy.refusal(request({}))).toMatch(/Host header ""/);
    expect(policy.refusal(request({ host: 'localhost:7878', origin: 'http://evil.example' }))).toMatch(/Origin "http:\/\/evil\.example" is not allowed/);
    expect(policy.refusal(request({ host: 'localhost:7878', origin: 'null' }))).toMatch(/Origin/);
    expect(policy.refusal(request({ host: 'localhost:7878', origin: 'https://localhost:7878' }))).toMatch(/Origin/);
  });

  it('accepts configured hosts (any port when the entry has none) and origins', () => {
    expect(policy.refusal(request({ host: 'memory.internal' }))).toBeNull();
    expect(policy.refusal(request({ host: 'memory.internal:9000' }))).toBeNull();
    expect(policy.refusal(request({ host: 'proxy.local:8443', origin: 'https://app.example.com' }))).toBeNull();
    expect(policy.refusal(request({ host: 'proxy.local:8444' }))).toMatch(/Host header/);
    expect(policy.refusal(request({ host: 'evil.memory.internal' }))).toMatch(/Host header/);
  });
});

describe('per-session call limit', () => {
  async function limited(limit: number) {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const transport = new CallLimitedTransport(serverSide, limit);
    const received: JSONRPCMessage[] = [];
    const answers: JSONRPCMessage[] = [];
    transport.onmessage = (message) => void received.push(message);
    clientSide.onmessage = (message) => void answers.push(message);
    await transport.start();
    await clientSide.start();
    const call = (id: number) => clientSide.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'memory_stats', arguments: {} } });
    return { transport, received, answers, call, clientSide };
  }

  it('answers requests over the cap with a JSON-RPC error and never passes them on', async () => {
    const { transport, received, answers, call } = await limited(2);
    for (const id of [1, 2, 3]) await call(id);
    expect(received.map((m) => (m as { id: number }).id)).toEqual([1, 2]);
    expect(transport.inFlight).toBe(2);
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 3, error: { code: -32000, message: expect.stringMatching(/Too many requests in flight on this session \(limit 2\)/) } }]);
  });

  it('frees a place only when the answer is sent: a cancelled call counts until its work has ended', async () => {
    const { transport, received, answers, call, clientSide } = await limited(2);
    await call(1);
    await call(2);
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    expect(transport.inFlight).toBe(1);
    await call(3);
    expect(received.map((m) => (m as { id: number }).id)).toEqual([1, 2, 3]);
    await clientSide.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } });
    // The call sees its signal aborted, but still holds its place, and the cancellation is not passed on.
    expect(transport.signalFor(2)?.aborted).toBe(true);
    expect(transport.inFlight).toBe(2);
    expect(received.some((m) => 'method' in m && m.method === 'notifications/cancelled')).toBe(false);
    await call(4);
    expect(answers.at(-1)).toMatchObject({ id: 4, error: { message: expect.stringMatching(/Too many requests in flight/) } });
    await transport.send({ jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'cancelled' } });
    await transport.send({ jsonrpc: '2.0', id: 3, error: { code: -32603, message: 'x' } });
    expect(transport.inFlight).toBe(0);
  });

  it('refuses a request whose id is already in flight, and never passes it on', async () => {
    const { transport, received, answers, call } = await limited(4);
    await call(7);
    await call(7);
    expect(received).toHaveLength(1);
    expect(transport.inFlight).toBe(1);
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 7, error: { code: -32600, message: expect.stringMatching(/request id 7 is already in flight/) } }]);
  });

  it('admits the messages of a POST only if its batch is small enough and its ids are new', async () => {
    const { transport, call } = await limited(3);
    const request = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'ping' });
    expect(transport.admitBatch(Array.from({ length: 13 }, (_, i) => request(i))).refusal?.message).toMatch(/a batch holds at most 12 messages/);
    expect(transport.admitBatch(Array.from({ length: 12 }, (_, i) => request(100 + i))).refusal).toBeNull();
    expect(transport.admitBatch([request(1), request(1)]).refusal?.message).toMatch(/request id 1 is already in flight/);
    const first = transport.admitBatch([request(1), request('1')]);
    expect(first.refusal).toBeNull();
    // Admitted but not yet arrived: another POST may not reuse the id.
    expect(transport.admitBatch(request(1)).refusal).not.toBeNull();
    first.release();
    expect(transport.admitBatch(request(1)).refusal).toBeNull();
    await call(9);
    expect(transport.admitBatch(request(9)).refusal?.message).toMatch(/request id 9 is already in flight/);
    // An admission released late (its stream ended long after its request was answered) leaves a later admission of the same id alone.
    const early = transport.admitBatch(request(20));
    await call(20);
    await transport.send({ jsonrpc: '2.0', id: 20, result: {} });
    const later = transport.admitBatch(request(20));
    expect(later.refusal).toBeNull();
    early.release();
    expect(transport.admitBatch(request(20)).refusal?.message).toMatch(/request id 20 is already in flight/);
  });
});

describe('session registry', () => {
  const session = (id: string, busy = () => 0): HttpSession & { closed: number } => {
    const s = {
      id,
      kind: 'streamable' as const,
      principal: LOCAL_PRINCIPAL,
      transport: {} as HttpSession['transport'],
      get inFlight() {
        return busy();
      },
      admitBatch: () => ({ refusal: null, release: () => {} }),
      closed: 0,
      async close() {
        s.closed += 1;
      },
    };
    return s;
  };

  it('counts sessions being created against the limit', async () => {
    const registry = new SessionRegistry(2, 60_000, createLogger('silent'));
    const a = registry.reserve()!;
    const b = registry.reserve()!;
    expect(registry.reserve()).toBeNull();
    b.release();
    b.release();
    a.commit(session('a'));
    expect(registry.size).toBe(1);
    expect(registry.reserve()).not.toBeNull();
    expect(registry.reserve()).toBeNull();
    expect(registry.use('a', 'streamable', LOCAL_PRINCIPAL)?.id).toBe('a');
    expect(registry.use('a', 'sse', LOCAL_PRINCIPAL)).toBeUndefined();
    // Another principal's session is not found.
    expect(registry.use('a', 'streamable', { ...LOCAL_PRINCIPAL, id: 'another-key' })).toBeUndefined();
    await registry.closeAll();
  });

  it('caps the sessions of one key, counting those being created, but not the local principal', async () => {
    const registry = new SessionRegistry(100, 60_000, createLogger('silent'), Date.now, 2);
    const alice = { ...LOCAL_PRINCIPAL, id: 'key-alice', role: 'writer' as const };
    const bob = { ...LOCAL_PRINCIPAL, id: 'key-bob', role: 'writer' as const };
    registry.reserve(alice)!.commit({ ...session('a1'), principal: alice });
    const pending = registry.reserve(alice)!;
    expect(registry.keyAtLimit(alice)).toBe(true);
    expect(registry.keyAtLimit(bob)).toBe(false);
    pending.release();
    expect(registry.keyAtLimit(alice)).toBe(false);
    registry.reserve(alice)!.commit({ ...session('a2'), principal: alice });
    expect(registry.keyAtLimit(alice)).toBe(true);
    registry.remove('a1', 'test');
    expect(registry.keyAtLimit(alice)).toBe(false);
    for (let i = 0; i < 5; i++) registry.reserve(LOCAL_PRINCIPAL)!.commit(session(`local-${i}`));
    expect(registry.keyAtLimit(LOCAL_PRINCIPAL)).toBe(false);
    await registry.closeAll();
  });

  it('closes idle sessions, but not busy ones', async () => {
    let now = 0;
    const registry = new SessionRegistry(10, 1000, createLogger('silent'), () => now);
    const idle = session('idle');
    let calls = 1;
    const busy = session('busy', () => calls);
    registry.reserve()!.commit(idle);
    registry.reserve()!.commit(busy);
    now = 999;
    registry.expireIdle();
    expect(registry.size).toBe(2);
    now = 1000;
    registry.expireIdle();
    expect(idle.closed).toBe(1);
    expect(registry.use('idle', 'streamable', LOCAL_PRINCIPAL)).toBeUndefined();
    calls = 0;
    now = 1999;
    registry.expireIdle();
    expect(busy.closed).toBe(0);
    now = 2000;
    registry.expireIdle();
    expect(busy.closed).toBe(1);
    expect(registry.size).toBe(0);
    await registry.closeAll();
  });
});

describe('HTTP settings', () => {
  it('default to stdio, and to loopback with modest limits when HTTP is chosen', () => {
    expect(resolveConfig({}, { PINAK_DATA_DIR: '/d' })).toMatchObject({
      transport: 'stdio',
      host: '127.0.0.1',
      port: 7878,
      allowedHosts: [],
      allowedOrigins: [],
      maxBodyBytes: 1024 * 1024,
      maxSessions: 100,
      maxCallsPerSession: 8,
      sessionIdleSeconds: 1800,
    });
  });

  it('come from the environment or flags, lists comma separated', () => {
    const env = { PINAK_DATA_DIR: '/d', PINAK_TRANSPORT: 'http', PINAK_PORT: '0', PINAK_ALLOWED_HOSTS: 'memory.internal, [::1]:9000,' };
    expect(resolveConfig({ 'allowed-origins': 'https://app.example.com,http://localhost:3000', 'max-sessions': '3' }, env)).toMatchObject({
      transport: 'http',
      port: 0,
      allowedHosts: ['memory.internal', '[::1]:9000'],
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
      maxSessions: 3,
    });
  });

  it('refuse bad values with one line naming the setting', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['transport', 'websocket', /flag --transport \("websocket"\)/],
      ['port', '65536', /--port/],
      ['host', 'a host', /--host/],
      ['allowed-hosts', 'ok.example,bad host', /--allowed-hosts .*host or host:port/],
      ['allowed-origins', 'https://app.example.com/path', /--allowed-origins .*origins such as/],
      ['max-body-bytes', '10', /--max-body-bytes/],
      ['max-calls-per-session', '0', /--max-calls-per-session/],
      ['session-idle-seconds', 'soon', /--session-idle-seconds/],
    ];
    for (const [flag, value, message] of bad) {
      expect(() => resolveConfig({ [flag]: value }, { PINAK_DATA_DIR: '/d' }), flag).toThrow(ConfigError);
      expect(() => resolveConfig({ [flag]: value }, { PINAK_DATA_DIR: '/d' }), flag).toThrow(message);
    }
  });
});
