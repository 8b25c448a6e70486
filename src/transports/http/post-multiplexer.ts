import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * One MCP server's transport over many HTTP POSTs, each served by a stateless
 * SDK transport of its own (which reads the request and writes the answer,
 * as JSON or as a stream): a request's answer, and the notifications sent
 * for it, go back on the POST that brought it. Lets the server of a session
 * kept in the shared directory serve every POST of that session this process
 * receives, instead of a server built and closed for each.
 *
 * Messages that belong to no live POST (a notice sent of the server's own
 * accord, an answer whose client went away) are dropped, as the stateless
 * transport does without a GET stream. A POST whose client goes away before
 * its answers are sent cancels its requests, as closing a per-POST server did.
 */
export class PostMultiplexer implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  /** Requests in flight, by id, and the POST each came on. */
  private readonly routes = new Map<RequestId, Transport>();
  private closed = false;

  async start(): Promise<void> {}

  /**
   * Take the messages of one POST's transport (not yet started) and send their
   * answers back through it; resolves once it is started.
   */
  async attach(post: Transport): Promise<void> {
    post.onmessage = (message, extra) => {
      if (this.closed) return;
      if (isJSONRPCRequest(message)) this.routes.set(message.id, post);
      this.onmessage?.(message, extra);
    };
    post.onerror = (error) => this.onerror?.(error);
    post.onclose = () => this.detach(post);
    await post.start();
  }

  /** The POST is over: its requests still unanswered are cancelled (their answers would have nowhere to go). */
  private detach(post: Transport): void {
    for (const [id, route] of this.routes) {
      if (route !== post) continue;
      this.routes.delete(id);
      if (!this.closed) this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the HTTP request ended before its answer' } });
    }
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const answer = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    const id = answer ? message.id : options?.relatedRequestId;
    const post = id === undefined ? undefined : this.routes.get(id);
    if (post === undefined) return;
    if (answer) this.routes.delete(id!);
    await post.send(message, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.routes.clear();
    this.onclose?.();
  }
}
