import { createHmac, timingSafeEqual } from 'node:crypto';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Principal } from '../../domain/principal.js';
import { RPC, sendRpcError } from './responses.js';

/** The query parameter of a legacy SSE stream's announced endpoint naming the worker holding it. */
export const WORKER_PARAMETER = 'worker';

const TOKEN_HEADER = 'x-pinak-forwarded';
const PRINCIPAL_HEADER = 'x-pinak-principal';

/** The other workers' loopback ports, as the primary makes them known. */
export interface WorkerPeers {
  /** Make this worker's private port known to the others. */
  announce(port: number): void;
  /** The private port of worker `id`, if it is serving. */
  portOf(id: number): number | undefined;
}

/**
 * Legacy SSE messages between the workers of one server. A stream lives in
 * the worker that opened it, and the workers take connections in turn, so a
 * `POST /messages` often reaches another one. Each worker also listens on a
 * private loopback port; the worker that receives a message for a stream it
 * does not hold admits it (key, rate limit) and passes it on to the
 * holder's port, with the principal it admitted and a token derived from the
 * key the primary gave every worker, which no client has: the holder serves
 * it without checking or charging it again.
 */
export class WorkerForwarding {
  private readonly token: string;

  constructor(
    readonly workerId: number,
    sealKey: Buffer,
    private readonly peers: WorkerPeers,
  ) {
    this.token = createHmac('sha256', sealKey).update('pinak-memory worker forwarding').digest('base64url');
  }

  announce(port: number): void {
    this.peers.announce(port);
  }

  /** The principal a forwarded request was admitted as by another worker; null for any other request. */
  principalOf(req: IncomingMessage): Principal | null {
    const token = req.headers[TOKEN_HEADER];
    const principal = req.headers[PRINCIPAL_HEADER];
    if (typeof token !== 'string' || typeof principal !== 'string') return null;
    const given = Buffer.from(token);
    const expected = Buffer.from(this.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      return JSON.parse(Buffer.from(principal, 'base64url').toString('utf8')) as Principal;
    } catch {
      return null;
    }
  }

  /** Pass a message for a stream of worker `owner` on to it, and its answer back. */
  forward(owner: number, principal: Principal, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const port = this.peers.portOf(owner);
    if (port === undefined) {
      sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found: the worker holding this stream is gone; open a new one with GET /sse');
      return Promise.resolve();
    }
    const { connection: _connection, 'keep-alive': _keepAlive, ...passed } = req.headers;
    const headers = { ...passed, [TOKEN_HEADER]: this.token, [PRINCIPAL_HEADER]: Buffer.from(JSON.stringify(principal)).toString('base64url') };
    return new Promise<void>((resolve) => {
      const outgoing = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, (answer) => {
        // x-pinak-worker stays this worker's (which took the connection); the holder of the stream is named beside it.
        const { 'x-pinak-worker': _holder, ...headers } = answer.headers;
        res.writeHead(answer.statusCode ?? 502, { ...headers, 'x-pinak-passed-to': String(owner) });
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', () => resolve());
      });
      outgoing.on('error', () => {
        if (!res.headersSent) sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found: the worker holding this stream is gone; open a new one with GET /sse');
        else res.destroy();
        resolve();
      });
      req.pipe(outgoing);
    });
  }
}
