import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RPC } from './responses.js';

/** What Node's HTTP parser reports, by error code, and what the client is told. */
const ANSWERS: Record<string, { status: number; reason: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    message: 'Request Header Fields Too Large: the request headers are over the server\'s limit; send fewer or shorter headers',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    reason: 'Payload Too Large',
    message: 'Payload Too Large: the chunk extensions of the request body are over the server\'s limit',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    message: 'Request Timeout: the request was not received in time; send it again',
  },
};
const BAD_REQUEST = { status: 400, reason: 'Bad Request', message: 'Bad Request: the request is not valid HTTP/1.1' };

/**
 * Node's `clientError` hook: a request the HTTP parser refused (malformed,
 * headers over the limit, too slow) never reaches the router, so its answer
 * is written to the socket here, with a JSON-RPC error body like every other
 * refusal, and the connection closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // As Node's own handler: once a response on this connection has started, raw bytes would corrupt it.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = ANSWERS[error.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: RPC.serverError, message: answer.message } });
  socket.end(
    `HTTP/1.1 ${answer.status} ${answer.reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncache-control: no-store\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
