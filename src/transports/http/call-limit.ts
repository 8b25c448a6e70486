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

/** The most messages one POST may carry with a per-session limit of `limit` calls in flight. */
export const maxBatch = (limit: number): number => 4 * limit;

/** Why a POST's messages are refused before any reaches the session, or null to let them in. */
export type BatchRefusal = { status: 400; code: number; message: string } | null;

/**
 * Wraps a session's transport so that at most `limit` client requests are in
 * flight at once, counting each request of a batch. A request counts from
 * the moment it arrives until its response has been sent, which is when its
 * work has ended: a request over the cap is answered at once with a
 * JSON-RPC error (code -32000) and never reaches the server, and a request
 * reusing the id of one still in flight is refused the same way.
 *
 * Cancellation (`notifications/cancelled`) is handled here rather than by
 * the SDK, which would drop the cancelled request's response and so leave
 * its HTTP response open forever: the request's signal is aborted (a search
 * stops between steps, a call that has not started does not run, a write
 * that has begun completes) and its answer is still sent when its work
 * ends, which the MCP specification allows and asks clients to ignore.
 */
export class CallLimitedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  /** Requests received and not yet answered, each with the signal its call watches. */
  private readonly pending = new Map<RequestId, AbortController>();
  /** Request ids admitted with an HTTP request (see admit) whose messages have not reached us yet, each with its admission. */
  private readonly arriving = new Map<RequestId, symbol>();

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

  /** The signal aborted when the client cancels this request. */
  signalFor(id: RequestId): AbortSignal | undefined {
    return this.pending.get(id)?.signal;
  }

  /**
   * Check the messages of one HTTP request before the SDK transport sees
   * them (it files responses by request id, so a reused id would send one
   * request's answer down another's stream and leave the first open): a
   * batch holds at most four times `limit` messages (the requests beyond the
   * limit are then refused one by one, as on their own), and no request id
   * may repeat one in the batch or one still in flight. Admitted ids are held until their
   * messages arrive; `release` gives back those that never did.
   */
  admitBatch(body: unknown): { refusal: BatchRefusal; release: () => void } {
    const messages = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && body.length > maxBatch(this.limit)) {
      return { refusal: { status: 400, code: RPC.invalidRequest, message: `Invalid Request: a batch holds at most ${maxBatch(this.limit)} messages on this server (four times --max-calls-per-session); got ${body.length}` }, release: () => {} };
    }
    const ids: RequestId[] = [];
    for (const message of messages) {
      if (!isJSONRPCRequest(message)) continue;
      if (this.pending.has(message.id) || this.arriving.has(message.id) || ids.includes(message.id)) {
        return { refusal: { status: 400, code: RPC.invalidRequest, message: `Invalid Request: request id ${JSON.stringify(message.id)} is already in flight on this session; give each request its own id` }, release: () => {} };
      }
      ids.push(message.id);
    }
    // Released ids are those this admission still holds: once delivered, an id may be admitted again by a later POST, whose hold stays.
    const admission = Symbol('admission');
    for (const id of ids) this.arriving.set(id, admission);
    return {
      refusal: null,
      release: () => {
        for (const id of ids) if (this.arriving.get(id) === admission) this.arriving.delete(id);
      },
    };
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  async start(): Promise<void> {
    this.inner.onclose = () => {
      for (const call of this.pending.values()) call.abort();
      this.pending.clear();
      this.arriving.clear();
      this.onclose?.();
    };
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onmessage = (message, extra) => this.receive(message, extra);
    await this.inner.start();
  }

  private receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (isJSONRPCRequest(message)) {
      const admitted = this.arriving.delete(message.id);
      if (!admitted && this.pending.has(message.id)) return this.refuse(message.id, `Invalid Request: request id ${JSON.stringify(message.id)} is already in flight on this session; give each request its own id`, RPC.invalidRequest);
      if (this.pending.size >= this.limit) return this.refuse(message.id, `Too many requests in flight on this session (limit ${this.limit}); wait for an answer before sending more`, RPC.serverError);
      this.pending.set(message.id, new AbortController());
    } else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined) this.pending.get(id)?.abort('cancelled by the client');
      // Not passed on: the SDK would drop the request's answer, and its HTTP response would never end.
      return;
    }
    this.onmessage?.(message, extra);
  }

  private refuse(id: RequestId, message: string, code: number): void {
    const refusal: JSONRPCMessage = { jsonrpc: '2.0', id, error: { code, message } };
    this.inner.send(refusal, { relatedRequestId: id }).catch((error: Error) => this.onerror?.(error));
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) this.pending.delete(message.id);
    await this.inner.send(message, options);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
