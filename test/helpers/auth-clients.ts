import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { runCli, runCliAsync } from './spawn-server.js';

const bearer = (key: string | undefined): Record<string, string> => (key === undefined ? {} : { authorization: `Bearer ${key}` });

/** An SDK client over Streamable HTTP that sends an API key with every request. */
export async function keyedClient(origin: string, key: string | undefined, name = 'keyed-client'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', origin), { requestInit: { headers: bearer(key) } });
  const client = new Client({ name, version: '0.0.1' });
  await client.connect(transport);
  return { client, transport };
}

/** An SDK client over the legacy SSE transport that sends an API key with every request. */
export async function keyedSseClient(origin: string, key: string | undefined, name = 'keyed-sse-client'): Promise<{ client: Client; transport: SSEClientTransport }> {
  const transport = new SSEClientTransport(new URL('/sse', origin), { requestInit: { headers: bearer(key) } });
  const client = new Client({ name, version: '0.0.1' });
  await client.connect(transport);
  return { client, transport };
}

/** `pinak-memory keys create …` in a data directory; returns the key and its id. */
export function createKey(dataDir: string, args: string[]): { key: string; id: string } {
  return createdKey(runCli(['--data-dir', dataDir, 'keys', 'create', ...args]));
}

/**
 * createKey without blocking this process: for a key made while HTTP clients
 * stay connected (see runCliAsync).
 */
export async function createKeyAsync(dataDir: string, args: string[]): Promise<{ key: string; id: string }> {
  return createdKey(await runCliAsync(['--data-dir', dataDir, 'keys', 'create', ...args]));
}

function createdKey(result: { status: number | null; stdout: string; stderr: string }): { key: string; id: string } {
  if (result.status !== 0) throw new Error(`keys create failed: ${result.stderr}`);
  const id = /created key (\S+)/.exec(result.stderr)?.[1];
  if (!id) throw new Error(`keys create printed no id: ${result.stderr}`);
  return { key: result.stdout.trim(), id };
}
