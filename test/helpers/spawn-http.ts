import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI } from './spawn-server.js';

export interface HttpServer {
  child: ChildProcessWithoutNullStreams;
  /** e.g. http://127.0.0.1:40123 */
  origin: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start the built CLI with `--transport http --port 0` and wait for the line that says where it listens. */
export async function spawnHttp(dataDir: string, args: string[] = [], env: Record<string, string> = {}): Promise<HttpServer> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, '--transport', 'http', '--port', '0', ...args], {
    // One serving process unless a test asks for workers (the default, said again so a change of it shows here).
    env: { PATH: process.env.PATH ?? '', PINAK_LOG_LEVEL: 'info', PINAK_WORKERS: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const deadline = Date.now() + 15_000;
  let listening: { url: string; port: number } | undefined;
  while (!listening) {
    listening = stderr
      .split('\n')
      .flatMap((line) => (line.includes('serving MCP over HTTP') ? [JSON.parse(line) as { url: string; port: number }] : []))[0];
    if (listening) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the HTTP server did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    child,
    origin: new URL(listening.url).origin,
    port: listening.port,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** An SDK client over Streamable HTTP (`/mcp`). */
export async function streamableClient(origin: string, name = 'http-client'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', origin));
  const client = new Client({ name, version: '0.0.1' });
  await client.connect(transport);
  return { client, transport };
}

/** An SDK client over the legacy SSE transport (`/sse`). */
export async function sseClient(origin: string, name = 'sse-client'): Promise<{ client: Client; transport: SSEClientTransport }> {
  const transport = new SSEClientTransport(new URL('/sse', origin));
  const client = new Client({ name, version: '0.0.1' });
  await client.connect(transport);
  return { client, transport };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = any>(): T;
}

/**
 * One HTTP request with full control of the headers (fetch will not send a
 * foreign Host). `body` may be an array of chunks, sent without a length;
 * `localAddress` picks the address it comes from (another of the loopback range).
 */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | string[]; localAddress?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const where = { host: '127.0.0.1', port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    const req = request({ ...where, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(options.body)) for (const chunk of options.body) req.write(chunk);
    else if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The JSON-RPC messages in a text/event-stream body. */
export function sseMessages(body: string): any[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line.length > 6)
    .map((line) => JSON.parse(line.slice(6)));
}
