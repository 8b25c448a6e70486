import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnRaw } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the built CLI over stdio, given bytes that are not UTF-8', () => {
  it('refuses the line with a JSON-RPC parse error, stores nothing of it, and keeps serving', async () => {
    const { dir, cleanup } = makeTempDir('pinak-stdio-utf8-');
    cleanups.push(cleanup);
    const child = spawnRaw(['--data-dir', dir, '--embed-model', 'none', '--log-level', 'warn']);
    cleanups.push(() => void child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const send = (line: string | Buffer): boolean => child.stdin.write(Buffer.concat([typeof line === 'string' ? Buffer.from(line) : line, Buffer.from('\n')]));
    const call = (id: number, name: string, args: Record<string, unknown>): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

    send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    // A well-formed remember call but for two invalid bytes (0xff, and a three-byte sequence cut short) inside its content.
    const [before, after] = call(2, 'remember', { content: 'quokka SPLIT sighting' }).split('SPLIT');
    send(Buffer.concat([Buffer.from(before!), Buffer.from([0xff, 0xe2, 0x82]), Buffer.from(after!)]));
    send(call(3, 'remember', { content: 'numbat sighting' }));
    // Calls run concurrently: search once the write has answered.
    await waitFor(() => stdout.includes('"id":3'));
    send(call(4, 'search_memory', { query: 'sighting', mode: 'keyword' }));
    await waitFor(() => stdout.includes('"id":4'));
    child.stdin.end();
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);

    const messages = stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: unknown; error?: { code: number; message: string }; result?: any });
    expect(messages.filter((m) => m.error)).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/not valid UTF-8/) } }]);
    expect(messages.find((m) => m.id === 2)).toBeUndefined();
    expect(messages.find((m) => m.id === 3)?.result?.isError).toBeFalsy();
    const hits = messages.find((m) => m.id === 4)?.result?.structuredContent?.hits as Array<{ snippet: string }>;
    expect(hits.map((h) => h.snippet)).toEqual([expect.stringContaining('numbat')]);
  });
});

describe('the built CLI over stdio, given requests and then the end of stdin', () => {
  it('answers every request it received before closing, as a pipe or a script expects, and exits 0', async () => {
    const { dir, cleanup } = makeTempDir('pinak-stdio-end-');
    cleanups.push(cleanup);
    const child = spawnRaw(['--data-dir', dir, '--embed-model', 'none', '--log-level', 'warn']);
    cleanups.push(() => void child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipe', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'remember', arguments: { content: 'written by a script' } } },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'memory_stats', arguments: {} } },
    ];
    // Everything at once, and stdin closed at once: `printf … | pinak-memory`.
    child.stdin.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: number; result?: { isError?: boolean } });
    expect(answers.map((answer) => answer.id).sort()).toEqual([1, 2, 3]);
    expect(answers.filter((answer) => answer.result?.isError)).toEqual([]);
  });
});
