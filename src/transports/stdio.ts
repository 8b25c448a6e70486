import type { Runtime } from '../runtime.js';
import { createServer } from '../server.js';
import type { Service } from './shutdown.js';
import { StdioLineTransport } from './stdio-line-transport.js';

/**
 * Serve MCP on stdin/stdout: one connection, one session. `done` resolves
 * when the client goes away (stdin ended or the transport closed).
 */
export async function serveStdio(runtime: Runtime): Promise<Service> {
  const { server, sessionId, dispose } = createServer(runtime);
  const done = new Promise<string>((resolve) => {
    server.onclose = () => {
      dispose();
      resolve('client closed the connection');
    };
  });
  await server.connect(new StdioLineTransport());
  runtime.logger.info({ sessionId }, 'serving MCP over stdio');
  return {
    done,
    async stopAccepting() {},
    async closeSessions() {
      await server.close();
    },
  };
}
