import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ROOT } from './project-copy.js';

interface ServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** Launch the server entry of the project's mcp.json as an MCP client does (its command, args and env, the client's usual environment) from `cwd`. */
export async function launchFromMcpJson(cwd: string, dataDir: string): Promise<Client> {
  const entry = (JSON.parse(readFileSync(join(ROOT, 'mcp.json'), 'utf8')) as { mcpServers: Record<string, ServerEntry> }).mcpServers['pinak-memory']!;
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    env: { ...getDefaultEnvironment(), ...entry.env, PINAK_DATA_DIR: dataDir },
    cwd,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'mcp-json-test', version: '0.0.1' });
  await client.connect(transport);
  return client;
}
