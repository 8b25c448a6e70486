import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Never logged: memory text, tool arguments, and credentials wherever a header object carries them. */
export const REDACT = {
  paths: ['content', '*.content', 'args', '*.args', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', '*.*.headers.authorization'],
  censor: '[redacted]',
};

/**
 * A pino logger that writes synchronously to fd 2. stdout belongs to the MCP
 * protocol in stdio mode, and a synchronous destination means the last lines
 * before a crash are not lost in a buffer.
 */
export function createLogger(level: string, destinationFd = 2): Logger {
  return pino(
    {
      name: 'pinak-memory',
      level,
      base: { pid: process.pid },
      redact: REDACT,
    },
    pino.destination({ fd: destinationFd, sync: true }),
  );
}
