import { execFile, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface Spawned {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** Start the built CLI over stdio, exactly as an MCP client launches it. */
export async function spawnServer(dataDir: string, args: string[] = [], env: Record<string, string> = {}): Promise<Spawned> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--data-dir', dataDir, ...args],
    env: { PATH: process.env.PATH ?? '', PINAK_LOG_LEVEL: 'info', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'e2e-client', version: '0.0.1' });
  try {
    await client.connect(transport);
  } catch (error) {
    // A server that exits while starting: say what it said, not only "Connection closed".
    await transport.close().catch(() => {});
    throw new Error(`${(error as Error).message}; the server wrote: ${stderr.slice(-2000)}`, { cause: error });
  }
  return { client, transport, stderr: () => stderr, close: () => client.close() };
}

/** Run the CLI to completion (for commands other than serving). */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    input,
    timeout: 20_000,
  });
}

/**
 * Run the CLI to completion without blocking this process: for tests that
 * keep HTTP clients connected meanwhile. A test blocked in runCli for longer
 * than the server's keep-alive timeout would then send its next request on a
 * connection the server has closed ("other side closed").
 */
export function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      resolve({ status: error === null ? 0 : typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Start the CLI as a raw child process, for tests that speak JSON-RPC by hand. */
export function spawnRaw(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}
