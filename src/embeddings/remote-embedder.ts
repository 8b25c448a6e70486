import { setTimeout as sleep } from 'node:timers/promises';
import { redactDatabaseUrl } from '../domain/database-url.js';
import type { Logger } from '../logging.js';
import { modelKey, normalized, type Embedder, type EmbeddingModel } from './embedder.js';
import { BadEmbeddingResponse, errorDetail, WIRE_FORMATS, type EmbeddingProvider, type WireFormat } from './remote-formats.js';
import { backoffMs, decideRetry, DEFAULT_RETRY, type AttemptOutcome, type RetryPolicy } from './remote-retry.js';
import { fingerprintOf, PROBES } from './transformers-embedder.js';

export interface RemoteEmbedderOptions {
  provider: EmbeddingProvider;
  /** The service's base URL. */
  url: string;
  /** The model asked for (openai, ollama); for tei, a label or null. */
  model: string | null;
  /** Sent as a bearer token; never logged. */
  apiKey: string | null;
  /** One request's limit, answer included. */
  timeoutMs: number;
  /** openai's dimensions parameter. */
  dimensions: number | null;
  /** Most texts per request. */
  batch: number;
  retry?: RetryPolicy;
}

/** A call to the embedding service failed. `transient`: the service is unavailable for now (down, slow, overloaded), not refusing this request. */
export class EmbeddingServiceError extends Error {
  override readonly name = 'EmbeddingServiceError';
  constructor(
    message: string,
    readonly transient: boolean,
    /** When the service may be asked again (epoch ms), if it said or is being left alone. */
    readonly retryAt: number | null = null,
    /** The service refused the texts sent (400, 413, 422: too long for the model, too many), not every request. */
    readonly rejectedInput = false,
  ) {
    super(message);
  }
}

/** After a call fails for a transient reason, calls fail at once for this long, doubling per failed call up to the cap: a service that is down is not asked by every search. */
const CIRCUIT_BASE_MS = 1000;
const CIRCUIT_MAX_MS = 30_000;

/** Statuses by which services refuse the texts themselves: OpenAI's 400 for an input over the model's context, TEI's 413 (batch too large) and 422 (tokenization). */
const REJECTED_INPUT: ReadonlySet<number> = new Set([400, 413, 422]);

/** The largest answer read (a batch of 512 vectors of 4,096 dimensions as JSON is about 40 MB). */
const MAX_ANSWER_BYTES = 128 * 1024 * 1024;

/** Where the service is, for messages and logs: never its password. */
export const describeService = (options: Pick<RemoteEmbedderOptions, 'provider' | 'url'>): string => `${options.provider} at ${redactDatabaseUrl(options.url)}`;

/**
 * HTTP to one embedding service: batching, a timeout per request, retries
 * with backoff and jitter on transient failures (honouring Retry-After), and
 * a circuit that fails calls at once while the service is known to be down.
 */
export class EmbeddingServiceClient {
  private readonly format: WireFormat;
  private readonly endpoint: string;
  private readonly policy: RetryPolicy;
  private readonly closing = new AbortController();
  private failedCalls = 0;
  private openUntil = 0;
  private lastProblem: string | null = null;
  /** Where the service is, for the log (never its password). */
  readonly where: string;
  /** How messages that may reach clients name it: the provider, not the address (a shared server's clients need not learn its network). */
  readonly label: string;

  /** From the URL's user and password (fetch refuses URLs holding them), when no API key is given. */
  private readonly basicAuth: string | null = null;

  constructor(private readonly options: RemoteEmbedderOptions) {
    this.format = WIRE_FORMATS[options.provider];
    const url = new URL(options.url);
    if (url.username !== '' || url.password !== '') {
      this.basicAuth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    this.endpoint = this.format.url(url.href);
    this.policy = options.retry ?? DEFAULT_RETRY;
    this.where = describeService(options);
    this.label = `the embedding service (${options.provider})`;
  }

  /** Why calls fail now, or null while the last call succeeded. */
  problem(): string | null {
    return this.lastProblem;
  }

  /** One raw vector per text, in order; the texts go in requests of at most `batch`. */
  async embed(texts: readonly string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let start = 0; start < texts.length; start += this.options.batch) out.push(...(await this.call(texts.slice(start, start + this.options.batch))));
    return out;
  }

  private async call(texts: readonly string[]): Promise<number[][]> {
    if (this.closing.signal.aborted) throw new EmbeddingServiceError('the embedding client is closed', false);
    const now = Date.now();
    if (now < this.openUntil) {
      throw new EmbeddingServiceError(`${this.label} is unavailable (${this.lastProblem ?? 'failing'}); next attempt in ${Math.ceil((this.openUntil - now) / 1000)} s`, true, this.openUntil);
    }
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(texts);
      if ('vectors' in result) {
        this.failedCalls = 0;
        this.openUntil = 0;
        this.lastProblem = null;
        return result.vectors;
      }
      const decision = decideRetry(result.outcome, attempt, this.policy);
      if (decision.retry) {
        await sleep(decision.delayMs, undefined, { signal: this.closing.signal }).catch(() => undefined);
        if (!this.closing.signal.aborted) continue;
      }
      this.lastProblem = result.problem;
      let retryAt: number | null = null;
      if (!decision.retry && decision.transient) {
        this.failedCalls += 1;
        const pause = Math.min(CIRCUIT_MAX_MS, CIRCUIT_BASE_MS * 2 ** (this.failedCalls - 1));
        retryAt = Date.now() + Math.max(pause, decision.waitMs ?? 0);
        this.openUntil = retryAt;
      }
      const status = result.outcome.kind === 'status' ? result.outcome.status : 0;
      throw new EmbeddingServiceError(`${this.label} ${result.problem}`, !decision.retry && decision.transient, retryAt, REJECTED_INPUT.has(status));
    }
  }

  private async attempt(texts: readonly string[]): Promise<{ vectors: number[][] } | { outcome: AttemptOutcome; problem: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey !== null) headers.authorization = `Bearer ${this.options.apiKey}`;
    else if (this.basicAuth !== null) headers.authorization = this.basicAuth;
    const signal = AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.closing.signal]);
    let status = 0;
    try {
      const response = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(this.format.body(texts, this.options.model, this.options.dimensions)), signal, redirect: 'error' });
      status = response.status;
      const length = Number(response.headers.get('content-length') ?? '0');
      if (length > MAX_ANSWER_BYTES) {
        await response.body?.cancel();
        return { outcome: { kind: 'bad-response' }, problem: `answered ${length} bytes, over ${MAX_ANSWER_BYTES}` };
      }
      const text = await response.text();
      if (!response.ok) {
        const detail = errorDetail(text);
        return { outcome: { kind: 'status', status, retryAfter: response.headers.get('retry-after') }, problem: `answered HTTP ${status}${detail === '' ? '' : `: ${detail}`}` };
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { outcome: { kind: 'bad-response' }, problem: `answered HTTP ${status} with a body that is not JSON` };
      }
      return { vectors: this.format.parse(json, texts.length) };
    } catch (error) {
      if (error instanceof BadEmbeddingResponse) return { outcome: { kind: 'bad-response' }, problem: `answered something other than embeddings: ${error.message}` };
      const name = (error as Error).name;
      if (name === 'TimeoutError') return { outcome: { kind: 'timeout' }, problem: `did not answer within ${this.options.timeoutMs} ms` };
      if (name === 'AbortError') return { outcome: { kind: 'bad-response' }, problem: 'was not asked: the client is closing' };
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { outcome: { kind: 'network' }, problem: `could not be reached (${cause?.code ?? cause?.message ?? (error as Error).message})` };
    }
  }

  close(): void {
    this.closing.abort();
  }
}

/**
 * The embedder for a service: the model identified at start from the
 * vectors of the same probe sentences local models are fingerprinted by, so
 * the key changes when the model behind the service does, and vectors of two
 * models never mix. Vectors are checked (dimension, finite values) and made
 * unit length; a text with nothing in it is not sent.
 */
export class RemoteEmbedder implements Embedder {
  private constructor(
    readonly model: EmbeddingModel,
    private readonly client: EmbeddingServiceClient,
    /**
     * The service answered the probes twice with vectors that differ in the
     * fourth decimal (GPU batching, a hosted API): the fingerprint, and so
     * the key, may differ at the next start, and every record be embedded again.
     */
    readonly unstable: boolean,
  ) {}

  /** Ask the service for the probes' vectors (twice: are they stable?): the model's dimension and fingerprint. Rejects with an EmbeddingServiceError. */
  static async identify(client: EmbeddingServiceClient, options: RemoteEmbedderOptions): Promise<RemoteEmbedder> {
    const probes = await client.embed(PROBES);
    const again = await client.embed(PROBES);
    const dimension = probes[0]!.length;
    if (options.dimensions !== null && dimension !== options.dimensions) {
      throw new EmbeddingServiceError(`${client.label} answered vectors of ${dimension} dimensions, not the ${options.dimensions} asked for with --embed-dimensions`, false);
    }
    const unit = probes.map((values) => normalized(Float32Array.from(values)));
    if (unit.some((vector) => vector === null)) throw new EmbeddingServiceError(`${client.label} answered a zero vector for a probe sentence`, false);
    const fingerprint = fingerprintOf(unit as Float32Array[]);
    const unstable = again.some((values) => values.length !== dimension) || fingerprintOf(again.map((values) => normalized(Float32Array.from(values)) ?? new Float32Array(dimension))) !== fingerprint;
    const id = `${options.provider}:${options.model ?? 'default'}`;
    return new RemoteEmbedder({ id, dimension, fingerprint, key: modelKey(id, dimension, fingerprint) }, client, unstable);
  }

  async embed(texts: readonly string[]): Promise<Array<Float32Array | null>> {
    const sent = texts.flatMap((text, i) => (text.trim() === '' ? [] : [i]));
    const out: Array<Float32Array | null> = texts.map(() => null);
    if (sent.length === 0) return out;
    const vectors = await this.client.embed(sent.map((i) => texts[i]!));
    vectors.forEach((values, j) => {
      if (values.length !== this.model.dimension) {
        throw new EmbeddingServiceError(`${this.client.label} now answers vectors of ${values.length} dimensions, not ${this.model.dimension}: the model behind it changed; restart to use the new one`, false);
      }
      out[sent[j]!] = normalized(Float32Array.from(values));
    });
    return out;
  }

  /** Why the service fails now, if it does. */
  status(): string | null {
    const problem = this.client.problem();
    return problem === null ? null : `${this.client.label} ${problem}`;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

const UNSTABLE_WARNING = 'the embedding service answers the same sentences with slightly different vectors (beyond the fourth decimal): the model\'s fingerprint may differ at the next start, and every record then be embedded again under a new key';

/** How long the identification waits between failed attempts: doubling from 1 s to 60 s, with jitter. */
const IDENTIFY_BACKOFF = { baseDelayMs: 2000, maxDelayMs: 60_000 };

/**
 * Identify the service's model, trying again with backoff until it answers
 * or `signal` aborts (then null). `onFailure` hears each failed attempt's
 * reason; the log gets a line when the reason changes, not on every attempt.
 */
export async function identifyWhenAvailable(options: RemoteEmbedderOptions, logger: Logger, signal: AbortSignal, onFailure: (reason: string) => void = () => {}): Promise<RemoteEmbedder | null> {
  const client = new EmbeddingServiceClient(options);
  // Stopping ends a request in flight too, not only the waits between them.
  signal.addEventListener('abort', () => client.close(), { once: true });
  let lastLogged: string | null = null;
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      const embedder = await RemoteEmbedder.identify(client, options);
      if (attempt > 1) logger.info({ service: client.where, model: embedder.model.id, dimension: embedder.model.dimension }, 'the embedding service answers: hybrid search from now on');
      if (embedder.unstable) logger.warn({ service: client.where, model: embedder.model.id }, UNSTABLE_WARNING);
      return embedder;
    } catch (error) {
      const reason = (error as Error).message;
      onFailure(reason);
      if (reason.replace(/next attempt in \d+ s/, '') !== lastLogged) {
        logger.warn({ service: client.where, reason }, 'the embedding service cannot be used yet: keyword search meanwhile; trying again in the background');
        lastLogged = reason.replace(/next attempt in \d+ s/, '');
      }
      const retryAt = error instanceof EmbeddingServiceError ? error.retryAt : null;
      const wait = Math.max(backoffMs(attempt, IDENTIFY_BACKOFF), retryAt === null ? 0 : retryAt - Date.now());
      await sleep(wait, undefined, { signal, ref: false }).catch(() => undefined);
    }
  }
  client.close();
  return null;
}
