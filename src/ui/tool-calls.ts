import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Principal } from '../domain/principal.js';
import type { Runtime } from '../runtime.js';
import { createServer, VERSION } from '../server.js';

/** What the browser's calls are audited under, as an MCP client's name. */
export const UI_CLIENT_NAME = 'pinak-memory-ui';

export type ToolAnswer<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * The tools, called for one principal of the browser: through the same MCP
 * server every transport builds (createServer), linked in memory, so each
 * call passes the same role and namespace checks, validation, limits and
 * audit row (with this principal, and the UI session's audit id) as a call
 * over /mcp. Nothing here reaches the store on its own.
 */
export class ToolCaller {
  private client: Promise<{ client: Client; close: () => Promise<void> }> | null = null;

  constructor(
    private readonly runtime: Runtime,
    private readonly principal: Principal,
    private readonly auditSession: string,
  ) {}

  private connect(): Promise<{ client: Client; close: () => Promise<void> }> {
    this.client ??= (async () => {
      const created = createServer(this.runtime, this.principal, { sessionId: this.auditSession });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await created.server.connect(serverSide);
      const client = new Client({ name: UI_CLIENT_NAME, version: VERSION });
      await client.connect(clientSide);
      return { client, close: async () => { await client.close(); await created.close(); } };
    })();
    return this.client;
  }

  /** Call a tool; its structured answer, or the message of its error (already written for people and models alike). */
  async call<T>(tool: string, args: Record<string, unknown>): Promise<ToolAnswer<T>> {
    const { client } = await this.connect();
    let result;
    try {
      result = await client.callTool({ name: tool, arguments: args });
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
    if (result.isError) {
      const text = (result.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join('\n');
      return { ok: false, message: text || 'the call failed' };
    }
    return { ok: true, value: result.structuredContent as T };
  }

  async close(): Promise<void> {
    if (!this.client) return;
    const opened = await this.client.catch(() => null);
    await opened?.close();
  }
}
