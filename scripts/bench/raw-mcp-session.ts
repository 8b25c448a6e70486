import { Agent, request } from 'node:http';

/**
 * A lean MCP session over Streamable HTTP, for load generation only:
 * node:http with kept-alive connections (fetch cost more CPU per call than
 * the SDK client itself), JSON-RPC bodies, no schema validation of answers, the answer read from
 * the JSON body or the first SSE `data:` line. The SDK client validates every
 * answer and parses every stream, which on a 2-core machine takes CPU the
 * server under test would otherwise have (`bench:http -- --client raw`).
 */
const PROTOCOL_VERSION = '2025-06-18';
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(url: URL, method: string, headers: Record<string, string>, body?: string, timeoutMs?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface ToolResult {
  isError?: boolean;
  content?: unknown;
  structuredContent?: unknown;
}

export class RawMcpSession {
  private nextId = 1;

  private constructor(
    private readonly url: URL,
    private readonly sessionId: string,
  ) {}

  static async open(url: URL, name: string): Promise<RawMcpSession> {
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name, version: '1' } } };
    const answer = await send(url, 'POST', { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, JSON.stringify(init));
    resultOf(answer);
    const sessionId = answer.headers['mcp-session-id'];
    if (typeof sessionId !== 'string') throw new Error('the server gave no session id');
    const session = new RawMcpSession(url, sessionId);
    await send(url, 'POST', session.headers(), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return session;
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': this.sessionId, 'mcp-protocol-version': PROTOCOL_VERSION };
  }

  /** The same shape as the SDK client's `callTool`, so the load loop takes either. */
  async callTool(params: { name: string; arguments: Record<string, unknown> }, _schema?: unknown, options?: { timeout?: number }): Promise<ToolResult> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method: 'tools/call', params });
    return resultOf(await send(this.url, 'POST', this.headers(), body, options?.timeout)) as ToolResult;
  }

  async close(): Promise<void> {
    await send(this.url, 'DELETE', this.headers()).catch(() => null);
  }
}

/** The JSON-RPC result of an answer (JSON, or the first SSE data line); a JSON-RPC error or an HTTP failure throws. */
function resultOf({ status, headers, text }: Answer): unknown {
  if (status < 200 || status >= 300) throw new Error(`HTTP ${status}: ${text.slice(0, 300)}`);
  const json = String(headers['content-type'] ?? '').includes('text/event-stream')
    ? text
        .split('\n')
        .find((line) => line.startsWith('data: '))
        ?.slice('data: '.length)
    : text;
  if (!json) throw new Error(`no answer in: ${text.slice(0, 300)}`);
  const message = JSON.parse(json) as { result?: unknown; error?: { message: string } };
  if (message.error) throw new Error(message.error.message);
  return message.result;
}
