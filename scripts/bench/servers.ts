/**
 * MCP servers as the benchmarks drive them: spawned over stdio (or over HTTP
 * with API keys) and called with the SDK client, the way an agent uses them.
 * Shared by run.ts (Pinak alone), server-memory.ts (Pinak next to the
 * official memory server), abuse.ts and the evals.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI } from '../lib/build.js';
import type { BenchMemory } from './data.js';

export type Result = Record<string, any>;
export const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);

export interface Server {
  client: Client;
  pid: number;
  close(): Promise<void>;
}

/** Spawn `node <script> ...args` and connect the SDK client to it over stdio. */
export async function startStdioServer(script: string, args: readonly string[], env: Record<string, string>): Promise<Server> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [script, ...args],
    env: { ...getDefaultEnvironment(), ...env },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'pinak-bench', version: '1' });
  await client.connect(transport);
  return { client, pid: transport.pid!, close: () => client.close() };
}

/** Settings the benchmark itself chooses per backend: never passed on from the shell. */
const BACKEND_SETTINGS = new Set(['PINAK_DATABASE_URL', 'PINAK_DATABASE_URL_FILE']);

/** The PINAK_* settings of the shell that reach the servers (the backend's own are given as flags). */
export function shellSettings(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('PINAK_') && entry[1] !== undefined && !BACKEND_SETTINGS.has(entry[0])),
  );
}

/** The built Pinak server on a data directory, with more flags if given (a database URL, a model). */
export async function startServer(dataDir: string, args: readonly string[] = []): Promise<Server> {
  // PINAK_* settings of the shell reach the server, so a run can try other settings.
  return startStdioServer(CLI, ['--data-dir', dataDir, '--log-level', 'warn', ...args], shellSettings());
}

/** `keys create` on the data directory; returns the key. */
export function createKey(dataDir: string, tenant: string, role: string): string {
  return execFileSync(process.execPath, [CLI, '--data-dir', dataDir, 'keys', 'create', '--tenant', tenant, '--role', role], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

/** The built server over HTTP on a free port, on a data directory whose keys it checks; resolves once it listens. */
export async function startHttpServer(dataDir: string): Promise<{ origin: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, '--transport', 'http', '--port', '0', '--workers', '1', '--log-level', 'info'], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = once(child, 'exit');
  const guard = (): void => void child.kill('SIGKILL');
  process.on('exit', guard);
  let stderr = '';
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${stderr.slice(-2000)}`)), 30_000);
    let listening = false;
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep draining: a full pipe would stall the server's logging. Only the tail is kept.
      stderr = (stderr + chunk.toString()).slice(-20_000);
      if (listening) return;
      const line = stderr.split('\n').slice(0, -1).find((l) => l.includes('serving MCP over HTTP'));
      if (line) {
        listening = true;
        clearTimeout(timer);
        resolve(new URL((JSON.parse(line) as { url: string }).url).origin);
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr.slice(-2000)}`)));
  });
  return {
    origin,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
      process.off('exit', guard);
    },
  };
}

/** An SDK client of a server started by startHttpServer, with an API key. */
export async function connectWithKey(origin: string, key: string, name: string): Promise<Client> {
  const client = new Client({ name, version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', origin), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

/** Call a tool; a tool error throws. Returns the structured result. */
export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 });
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content).slice(0, 300)}`);
  return result.structuredContent as Result;
}

/** Wait until Pinak has embedded and indexed everything it stored. */
export async function waitForIndex(client: Client): Promise<void> {
  for (;;) {
    const { embedding } = await call(client, 'memory_stats', {});
    if (embedding.index_backlog === 0 && embedding.embedded >= embedding.records) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Wait until Pinak's vector index has loaded after a start (hybrid search uses it from then on). */
export async function waitForVectorSearch(client: Client): Promise<void> {
  for (;;) {
    const { embedding } = await call(client, 'memory_stats', {});
    if (embedding.index_start !== 'loading') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Bulk load into Pinak with `remember` batches of 100: rate until acknowledged, and seconds until indexed. */
export async function load(client: Client, data: Iterable<BenchMemory>, total: number): Promise<Result> {
  const batch: BenchMemory[] = [];
  let done = 0;
  const started = performance.now();
  const flush = async (): Promise<void> => {
    await call(client, 'remember', { memories: batch.splice(0) });
  };
  for (const memory of data) {
    batch.push(memory);
    if (batch.length === 100) {
      await flush();
      done += 100;
      if (done % 10_000 === 0) log(`loaded ${done}/${total}`);
    }
  }
  if (batch.length) await flush();
  const ackSeconds = (performance.now() - started) / 1000;
  await waitForIndex(client);
  const indexedSeconds = (performance.now() - started) / 1000;
  return {
    memories_per_s: Math.round(total / ackSeconds),
    seconds: Math.round(ackSeconds * 10) / 10,
    seconds_until_indexed: Math.round(indexedSeconds * 10) / 10,
  };
}
