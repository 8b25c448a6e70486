import type { Runtime } from '../runtime.js';
import { createServer } from '../server.js';
import { StdioLineTransport } from './stdio-line-transport.js';

/**
 * Serve MCP on stdin/stdout until the client goes away. Resolves when the
 * connection has closed (stdin ended or the transport closed).
 */
export async function serveStdio(runtime: Runtime): Promise<void> {
  const { server, sessionId } = createServer(runtime);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  await server.connect(new StdioLineTransport());
  runtime.logger.info({ sessionId }, 'serving MCP over stdio');
  await closed;
}
