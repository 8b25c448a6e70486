import type { Server } from 'node:http';

/**
 * Close, at once, a connection from an address that already holds `max`
 * open ones: the server's own limit (--max-connections) is one pool, which
 * a single client opening connections faster than the header timeout closes
 * them could otherwise fill, locking every other client out. Behind a
 * reverse proxy every client has the proxy's address: raise the limit there.
 */
export function limitConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const held = open.get(address) ?? 0;
    if (held >= max) {
      socket.destroy();
      return;
    }
    open.set(address, held + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
