import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StdioLineTransport } from '../../src/transports/stdio-line-transport.js';

function setup(maxLineBytes = 1024) {
  const input = new PassThrough();
  const output = new PassThrough();
  const transport = new StdioLineTransport(input, output, maxLineBytes);
  const received: unknown[] = [];
  const written: string[] = [];
  transport.onmessage = (message) => received.push(message);
  output.on('data', (d: Buffer) => written.push(...d.toString().trim().split('\n')));
  return { input, transport, received, written: () => written.map((line) => JSON.parse(line)) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('StdioLineTransport', () => {
  it('delivers messages split across chunks and several per chunk', async () => {
    const { input, transport, received } = setup();
    await transport.start();
    input.write('{"jsonrpc":"2.0","id":1,"me');
    input.write('thod":"ping"}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\r\n\n');
    await tick();
    expect(received).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'ping' },
    ]);
  });

  it('answers broken frames with JSON-RPC errors and keeps reading', async () => {
    const { input, transport, received, written } = setup();
    await transport.start();
    input.write('not json\n');
    input.write('{"id":7,"hello":true}\n');
    input.write('[1,2]\n');
    input.write('{"jsonrpc":"2.0","id":3,"method":"ping"}\n');
    await tick();
    expect(written()).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringContaining('not valid JSON') } },
      { jsonrpc: '2.0', id: 7, error: { code: -32600, message: expect.stringContaining('Invalid Request') } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining('Invalid Request') } },
    ]);
    expect(received).toEqual([{ jsonrpc: '2.0', id: 3, method: 'ping' }]);
  });

  it('drops an oversized line with an error instead of buffering it', async () => {
    const { input, transport, received, written } = setup(100);
    await transport.start();
    input.write(`{"jsonrpc":"2.0","id":1,"method":"x","params":{"p":"${'a'.repeat(300)}`);
    input.write(`${'b'.repeat(300)}"}}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n`);
    await tick();
    expect(written()).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringContaining('larger than 100 bytes') } }]);
    expect(received).toEqual([{ jsonrpc: '2.0', id: 2, method: 'ping' }]);
  });

  it('closes when its input ends', async () => {
    const { input, transport } = setup();
    let closed = false;
    transport.onclose = () => (closed = true);
    await transport.start();
    input.end();
    await tick();
    expect(closed).toBe(true);
  });
});
