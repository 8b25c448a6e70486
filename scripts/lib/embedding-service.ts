import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadStaticWordVectors, type StaticWordVectors } from '../../src/embeddings/static-word-vectors.js';

export type Provider = 'openai' | 'ollama' | 'tei';

/** One way to answer the next request instead of embeddings. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Answer after this long (beyond the client's timeout: it gives up first). */
  | { kind: 'slow'; ms: number }
  /** Embeddings with this many dimensions instead of the model's. */
  | { kind: 'dimension'; dimension: number }
  /** A 200 whose body is this text as it is. */
  | { kind: 'body'; body: string };

export interface SeenRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
  at: number;
}

let bundled: StaticWordVectors | null = null;
/** The bundled model, computed in this process: the vectors a real service would answer. */
export function bundledModel(): StaticWordVectors {
  bundled ??= loadStaticWordVectors(fileURLToPath(new URL('../../models/static-glove-50k', import.meta.url)));
  return bundled;
}

/** The bundled model's vector of each text; zeros where it knows no word (it gives NaN there, which JSON cannot carry). */
export function bundledVectors(texts: readonly string[]): number[][] {
  const model = bundledModel();
  const flat = model.embed(texts);
  return texts.map((_, i) => Array.from(flat.subarray(i * model.dimension, (i + 1) * model.dimension), (v) => (Number.isFinite(v) ? v : 0)));
}

/**
 * A small embedding service speaking one provider's wire format (OpenAI's
 * /v1/embeddings, Ollama's /api/embed, TEI's /embed) and answering with the
 * bundled model's real vectors; it fails on demand (queued faults), and can
 * stop listening and start again on the same port.
 */
export class FakeEmbeddingService {
  readonly requests: SeenRequest[] = [];
  readonly faults: Fault[] = [];
  /** Applied to every request while set (a fault queue applies once each). */
  always: Fault | null = null;
  /** Added to every component at random, up to this much either way: a service whose answers vary a little (GPU batching, hosted APIs). */
  noise = 0;
  /** Texts refused with a 400, as OpenAI refuses an input longer than the model's context: a request holding one fails whole. */
  readonly refused = new Set<string>();
  private server: Server | null = null;
  port = 0;

  constructor(readonly provider: Provider, readonly apiKey: string | null = null) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Embedding requests answered with vectors so far. */
  get answered(): number {
    return this.requests.filter((r) => (r as SeenRequest & { ok?: boolean }).ok).length;
  }

  async start(port = this.port): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stop listening and drop every connection: clients now get ECONNREFUSED. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private path(): string {
    return this.provider === 'openai' ? '/v1/embeddings' : this.provider === 'ollama' ? '/api/embed' : '/embed';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return this.send(res, 400, { error: 'body is not JSON' });
    }
    const seen: SeenRequest & { ok?: boolean } = { path: req.url ?? '', authorization: req.headers.authorization, body, at: Date.now() };
    this.requests.push(seen);
    if (req.method !== 'POST' || req.url !== this.path()) return this.send(res, 404, { error: `no route ${req.method} ${req.url}` });
    if (this.apiKey !== null && req.headers.authorization !== `Bearer ${this.apiKey}`) return this.send(res, 401, { error: { message: 'Incorrect API key provided' } });
    const fault = this.faults.shift() ?? this.always;
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }) });
      res.end(fault.body ?? JSON.stringify({ error: `fault ${fault.status}` }));
      return;
    }
    if (fault?.kind === 'body') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(fault.body);
      return;
    }
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const texts = this.provider === 'tei' ? body.inputs : body.input;
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) return this.send(res, 422, { error: 'expected a list of texts' });
    if (this.provider !== 'tei' && typeof body.model !== 'string') return this.send(res, 400, { error: 'model is required' });
    if ((texts as string[]).some((text) => this.refused.has(text))) {
      return this.send(res, 400, { error: { message: "This model's maximum context length is 8192 tokens, however you requested more. Please reduce your prompt.", type: 'invalid_request_error' } });
    }
    let vectors = bundledVectors(texts as string[]);
    if (this.noise > 0) vectors = vectors.map((v) => v.map((x) => x + (Math.random() * 2 - 1) * this.noise));
    if (fault?.kind === 'dimension') vectors = vectors.map((v) => Array.from({ length: fault.dimension }, (_, i) => v[i % v.length]!));
    seen.ok = true;
    if (this.provider === 'openai') {
      return this.send(res, 200, {
        object: 'list',
        // Entries in reverse order: clients must place them by index.
        data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })).reverse(),
        model: body.model,
        usage: { prompt_tokens: 1, total_tokens: 1 },
      });
    }
    if (this.provider === 'ollama') return this.send(res, 200, { model: body.model, embeddings: vectors, total_duration: 1, load_duration: 1, prompt_eval_count: 1 });
    return this.send(res, 200, vectors);
  }

  private send(res: ServerResponse, status: number, json: unknown): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  }
}

/** Start a fake service of this provider on a free port. */
export function startEmbeddingService(provider: Provider, apiKey: string | null = null): Promise<FakeEmbeddingService> {
  return new FakeEmbeddingService(provider, apiKey).start(0);
}
