import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Runtime } from '../runtime.js';
import { createServer } from '../server.js';

/**
 * Serve MCP on stdin/stdout until the client goes away. Resolves when the
 * connection has closed (stdin ended or the transport closed).
 */
export async function serveStdio(runtime: Runtime): Promise<void> {
  const { server, sessionId } = createServer(runtime);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  runtime.logger.info({ sessionId }, 'serving MCP over stdio');
  await closed;
  await server.close();
}
