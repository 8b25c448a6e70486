import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { STRICT_UTF8 } from './strict-utf8.js';

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;
/** After stdin ends, how long requests already received may take to be answered before the connection closes anyway. */
const ANSWER_AFTER_END_MS = 30_000;
/**
 * MCP over newline-delimited JSON on stdin/stdout. Unlike the SDK's stdio
 * transport, a broken frame (not JSON, not JSON-RPC, or too large) gets a
 * JSON-RPC error back and the connection keeps serving, instead of being
 * dropped silently or closed.
 */
export class StdioLineTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Set while skipping the rest of an oversized line. */
  private discarding = false;
  private closed = false;
  /** Requests passed on and not answered yet, by id: stdin ending closes the connection only once they are. */
  private readonly unanswered = new Set<string | number>();
  private ended = false;

  constructor(
    private readonly input: Readable = process.stdin,
    private readonly output: Writable = process.stdout,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onInputError);
  }

  private readonly onData = (chunk: Buffer): void => {
    let rest = chunk;
    for (let newline = rest.indexOf(0x0a); newline !== -1; newline = rest.indexOf(0x0a)) {
      this.takeLine(rest.subarray(0, newline));
      rest = rest.subarray(newline + 1);
    }
    this.buffer(rest);
  };

  /**
   * A client that writes its requests and closes stdin (a pipe, a script)
   * still gets its answers: the connection closes once every request
   * received has been answered, or after ANSWER_AFTER_END_MS.
   */
  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.unanswered.size === 0) return void this.close();
    setTimeout(() => void this.close(), ANSWER_AFTER_END_MS).unref();
  };
  private readonly onInputError = (error: Error): void => this.onerror?.(error);

  private buffer(part: Buffer): void {
    if (part.length === 0 || this.discarding) return;
    this.pending.push(part);
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      this.discarding = true;
    }
  }

  private takeLine(end: Buffer): void {
    if (this.discarding) {
      this.discarding = false;
      this.reject(null, PARSE_ERROR, `Parse error: message larger than ${this.maxLineBytes} bytes`);
      return;
    }
    const bytes = Buffer.concat([...this.pending, end]);
    this.pending = [];
    this.pendingBytes = 0;
    let line: string;
    try {
      line = STRICT_UTF8.decode(bytes).replace(/\r$/, '');
    } catch {
      this.reject(null, PARSE_ERROR, 'Parse error: the message is not valid UTF-8; send JSON encoded as UTF-8');
      return;
    }
    if (line.trim() === '') return;

    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.reject(null, PARSE_ERROR, 'Parse error: the message is not valid JSON');
      return;
    }
    const message = JSONRPCMessageSchema.safeParse(parsed);
    if (!message.success) {
      const id = (parsed as { id?: unknown } | null)?.id;
      this.reject(typeof id === 'string' || typeof id === 'number' ? id : null, INVALID_REQUEST, 'Invalid Request: not a JSON-RPC 2.0 message');
      return;
    }
    if ('method' in message.data && 'id' in message.data) this.unanswered.add(message.data.id);
    this.onmessage?.(message.data);
  }

  private reject(id: string | number | null, code: number, message: string): void {
    // JSON-RPC wants id null when the request's id could not be read; the SDK's
    // message type has no room for that, so this frame is written directly.
    this.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`).catch((error: Error) => this.onerror?.(error));
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('transport closed'));
      if (this.output.write(text)) resolve();
      else this.output.once('drain', resolve);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    await this.write(`${JSON.stringify(message)}\n`);
    if (!('method' in message) && 'id' in message && message.id !== undefined && this.unanswered.delete(message.id) && this.ended && this.unanswered.size === 0) await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onInputError);
    this.input.pause();
    this.onclose?.();
  }
}
