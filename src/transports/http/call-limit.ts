import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { RPC } from './responses.js';

/**
 * Wraps a session's transport so that at most `limit` client requests are in
 * flight at once. A request over the cap is answered at once with a JSON-RPC
 * error (code -32000) that says so, and never reaches the server; the
 * client can retry after an answer arrives. A request stops counting when its
 * response (result or error) is sent, or when the client cancels it.
 */
export class CallLimitedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  private readonly pending = new Set<RequestId>();

  constructor(
    private readonly inner: Transport,
    private readonly limit: number,
  ) {}

  /** Client requests received and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  async start(): Promise<void> {
    this.inner.onclose = () => {
      this.pending.clear();
      this.onclose?.();
    };
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onmessage = (message, extra) => this.receive(message, extra);
    await this.inner.start();
  }

  private receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (isJSONRPCRequest(message)) {
      if (this.pending.size >= this.limit) {
        const refusal: JSONRPCMessage = {
          jsonrpc: '2.0',
          id: message.id,
          error: { code: RPC.serverError, message: `Too many requests in flight on this session (limit ${this.limit}); wait for an answer before sending more` },
        };
        this.inner.send(refusal, { relatedRequestId: message.id }).catch((error: Error) => this.onerror?.(error));
        return;
      }
      this.pending.add(message.id);
    } else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined) this.pending.delete(id);
    }
    this.onmessage?.(message, extra);
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) this.pending.delete(message.id);
    await this.inner.send(message, options);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
