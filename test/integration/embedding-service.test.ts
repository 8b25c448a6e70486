import { afterEach, describe, expect, it } from 'vitest';
import { normalized } from '../../src/embeddings/embedder.js';
import { EmbeddingServiceClient, EmbeddingServiceError, RemoteEmbedder, type RemoteEmbedderOptions } from '../../src/embeddings/remote-embedder.js';
import { fingerprintOf, PROBES } from '../../src/embeddings/transformers-embedder.js';
import { bundledVectors, startEmbeddingService, type FakeEmbeddingService, type Provider } from '../helpers/embedding-service.js';

const services: FakeEmbeddingService[] = [];
const clients: EmbeddingServiceClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const service of services.splice(0)) await service.stop();
});

async function service(provider: Provider, apiKey: string | null = null): Promise<FakeEmbeddingService> {
  const started = await startEmbeddingService(provider, apiKey);
  services.push(started);
  return started;
}

function options(svc: FakeEmbeddingService, more: Partial<RemoteEmbedderOptions> = {}): RemoteEmbedderOptions {
  return {
    provider: svc.provider,
    url: svc.url,
    model: svc.provider === 'tei' ? null : 'test-model',
    apiKey: svc.apiKey,
    timeoutMs: 2000,
    dimensions: null,
    batch: 32,
    retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 2000 },
    ...more,
  };
}

async function identify(svc: FakeEmbeddingService, more: Partial<RemoteEmbedderOptions> = {}): Promise<{ embedder: RemoteEmbedder; client: EmbeddingServiceClient }> {
  const opts = options(svc, more);
  const client = new EmbeddingServiceClient(opts);
  clients.push(client);
  return { embedder: await RemoteEmbedder.identify(client, opts), client };
}

async function failure(promise: Promise<unknown>): Promise<EmbeddingServiceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EmbeddingServiceError);
    return error as EmbeddingServiceError;
  }
  throw new Error('succeeded');
}

const TEXTS = ['The kitten was sleeping on the warm rug', 'Our flight to Tokyo was delayed', 'quarterly revenue grew'];

describe.each(['openai', 'ollama', 'tei'] as const)('the %s wire format, end to end over HTTP', (provider) => {
  it('identifies the model by the probe sentences and embeds texts in order, unit length, equal to the model\'s own vectors', async () => {
    const svc = await service(provider, provider === 'tei' ? null : 'secret-key-123');
    const { embedder } = await identify(svc);
    const expected = bundledVectors(PROBES).map((v) => normalized(Float32Array.from(v))!);
    expect(embedder.model).toMatchObject({ id: `${provider}:${provider === 'tei' ? 'default' : 'test-model'}`, dimension: 100, fingerprint: fingerprintOf(expected) });
    expect(embedder.model.key).toBe(`${embedder.model.id}@100#${fingerprintOf(expected)}`);
    const vectors = await embedder.embed(TEXTS);
    const own = bundledVectors(TEXTS);
    vectors.forEach((vector, i) => {
      expect(vector).toHaveLength(100);
      const reference = normalized(Float32Array.from(own[i]!))!;
      let dot = 0;
      for (let d = 0; d < 100; d++) dot += vector![d]! * reference[d]!;
      expect(dot).toBeCloseTo(1, 5);
    });
    const sent = svc.requests.at(-1)!;
    if (provider === 'tei') expect(sent.body).toEqual({ inputs: TEXTS, normalize: true, truncate: true });
    else expect(sent.body).toMatchObject({ model: 'test-model', input: TEXTS });
    if (provider !== 'tei') expect(sent.authorization).toBe('Bearer secret-key-123');
  });
});

describe('an embedding service that fails', () => {
  it('batches requests by --embed-batch, and sends no empty text', async () => {
    const svc = await service('ollama');
    const { embedder } = await identify(svc, { batch: 2 });
    const before = svc.requests.length;
    const vectors = await embedder.embed(['one cat', '  ', 'two dogs', 'three birds', 'four fish', '']);
    expect(svc.requests.length - before).toBe(2);
    expect(svc.requests.slice(before).map((r) => r.body.input)).toEqual([['one cat', 'two dogs'], ['three birds', 'four fish']]);
    expect(vectors.map((v) => (v === null ? null : v.length))).toEqual([100, null, 100, 100, 100, null]);
    // Nothing but a text the model knows no word of: no vector (the service answers zeros), as with the local model.
    expect(await embedder.embed(['zxqv wqzx'])).toEqual([null]);
  });

  it('retries 503s with backoff and succeeds', async () => {
    const svc = await service('openai');
    const { embedder } = await identify(svc);
    svc.faults.push({ kind: 'status', status: 503 }, { kind: 'status', status: 502 });
    const before = svc.requests.length;
    expect((await embedder.embed(['a cat']))[0]).toHaveLength(100);
    expect(svc.requests.length - before).toBe(3);
  });

  it('waits as long as a 429\'s Retry-After says before asking again', async () => {
    const svc = await service('tei');
    const { embedder } = await identify(svc);
    svc.faults.push({ kind: 'status', status: 429, retryAfter: '1', body: '{"error":"Model is overloaded","error_type":"overloaded"}' });
    const before = svc.requests.length;
    await embedder.embed(['a cat']);
    const [first, second] = svc.requests.slice(before);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after the timeout on each attempt, then fails calls at once while the service is left alone, and works again after', async () => {
    const svc = await service('ollama');
    const { embedder } = await identify(svc, { timeoutMs: 200 });
    svc.always = { kind: 'slow', ms: 1000 };
    const before = svc.requests.length;
    const started = Date.now();
    const error = await failure(embedder.embed(['a cat']));
    expect(error.message).toMatch(/did not answer within 200 ms/);
    expect(error.transient).toBe(true);
    expect(svc.requests.length - before).toBe(3);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(embedder.status()).toMatch(/did not answer within 200 ms/);
    // The circuit is open: no request, an answer at once.
    const fast = Date.now();
    expect((await failure(embedder.embed(['a dog']))).message).toMatch(/unavailable .*next attempt in 1 s/);
    expect(Date.now() - fast).toBeLessThan(50);
    expect(svc.requests.length - before).toBe(3);
    svc.always = null;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await embedder.embed(['a dog']))[0]).toHaveLength(100);
    expect(embedder.status()).toBeNull();
  });

  it('does not retry a 401, and never says the key', async () => {
    const svc = await service('openai', 'the-right-key');
    const { embedder } = await identify(svc);
    const wrong = new EmbeddingServiceClient(options(svc, { apiKey: 'sk-wrong-key-456' }));
    clients.push(wrong);
    const error = await failure(RemoteEmbedder.identify(wrong, options(svc, { apiKey: 'sk-wrong-key-456' })));
    expect(error.message).toMatch(/answered HTTP 401: Incorrect API key provided/);
    expect(error.message).not.toContain('sk-wrong');
    expect(error.transient).toBe(false);
    expect(svc.requests.filter((r) => r.authorization === 'Bearer sk-wrong-key-456')).toHaveLength(1);
    expect(embedder.model.dimension).toBe(100);
  });

  it('refuses answers of another dimension, garbage, and a dimension other than --embed-dimensions', async () => {
    const svc = await service('openai');
    const { embedder } = await identify(svc);
    svc.faults.push({ kind: 'dimension', dimension: 64 });
    expect((await failure(embedder.embed(['a cat']))).message).toMatch(/now answers vectors of 64 dimensions, not 100/);
    svc.faults.push({ kind: 'body', body: '<html>oops</html>' });
    expect((await failure(embedder.embed(['a cat']))).message).toMatch(/not JSON/);
    svc.faults.push({ kind: 'body', body: '{"data":[{"index":0,"embedding":[1,"x"]}]}' });
    expect((await failure(embedder.embed(['a cat']))).message).toMatch(/answered something other than embeddings: data\[\]\.embedding\[0\] holds a string/);
    // A bad answer is not retried: one request each.
    expect(svc.requests.filter((r) => r.body.input !== undefined && (r.body.input as string[])[0] === 'a cat')).toHaveLength(3);
    expect((await failure(identify(svc, { dimensions: 256 }))).message).toMatch(/vectors of 100 dimensions, not the 256 asked for/);
    expect(svc.requests.at(-1)!.body.dimensions).toBe(256);
  });

  it("says a service that is not listening could not be reached, never its password", async () => {
    const svc = await service('ollama');
    await svc.stop();
    const opts = options(svc, { url: `http://user:hunter2@127.0.0.1:${svc.port}` });
    const client = new EmbeddingServiceClient(opts);
    clients.push(client);
    const error = await failure(RemoteEmbedder.identify(client, opts));
    expect(error.message).toMatch(/could not be reached \(ECONNREFUSED\)/);
    // Messages may reach clients (search notes, memory_stats): they name the provider, never the address.
    expect(error.message).toMatch(/^the embedding service \(ollama\) could not be reached/);
    expect(error.message).not.toContain('127.0.0.1');
    expect(error.message).not.toContain('hunter2');
  });
});

describe('a service whose answers vary a little', () => {
  it('is told apart from a stable one at identification', async () => {
    const svc = await service('tei');
    expect((await identify(svc)).embedder.unstable).toBe(false);
    svc.noise = 1e-3;
    expect((await identify(svc)).embedder.unstable).toBe(true);
  });
});

describe('credentials in the service URL', () => {
  it('go as basic authentication, not in the URL', async () => {
    const svc = await service('tei');
    const opts = options(svc, { url: `http://user:p%40ss@127.0.0.1:${svc.port}/` });
    const client = new EmbeddingServiceClient(opts);
    clients.push(client);
    await RemoteEmbedder.identify(client, opts);
    expect(svc.requests.at(-1)!.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(svc.requests.at(-1)!.path).toBe('/embed');
  });
});

describe('re-embedding through a service that refuses some texts', () => {
  it('embeds the rest of the batch, leaves a refused record without a vector, and keeps retrying when every text is refused', async () => {
    const { createLogger } = await import('../../src/logging.js');
    const { reembedMissing } = await import('../../src/memory/reembed.js');
    const { linkedServer } = await import('../helpers/in-memory-server.js');
    const { callOk } = await import('../helpers/calls.js');
    const svc = await service('openai');
    const { embedder } = await identify(svc);
    const linked = await linkedServer({ embedder });
    try {
      const poison = 'an input far longer than the model can take';
      svc.refused.add(poison);
      const stored = (await callOk(linked.client, 'remember', { memories: [{ content: 'The kitten was sleeping on the warm rug' }, { content: poison }, { content: 'Our flight to Tokyo was delayed' }] })).stored;
      // The write's one request held the refused text: all three are stored, none with a vector.
      expect((await callOk(linked.client, 'memory_stats')).embedding).toMatchObject({ records: 3, embedded: 0 });
      const done = await reembedMissing(linked.runtime.store, embedder, createLogger('silent'), { batch: 10 });
      expect(done).toBe(3);
      expect((await callOk(linked.client, 'memory_stats')).embedding).toMatchObject({ records: 3, embedded: 3 });
      const byMeaning = await callOk(linked.client, 'search_memory', { query: 'a cat napping on a carpet', mode: 'vector', limit: 1 });
      expect(byMeaning.hits[0].id).toBe(stored[0].id);
      const keyword = await callOk(linked.client, 'search_memory', { query: 'longer input', mode: 'keyword' });
      expect(keyword.hits[0].id).toBe(stored[1].id);

      // Every text refused: not the texts' fault (a model gone, a service misconfigured): nothing is marked, the error stands.
      svc.refused.add('first of two').add('second of two');
      await callOk(linked.client, 'remember', { memories: [{ content: 'first of two' }, { content: 'second of two' }] });
      await expect(reembedMissing(linked.runtime.store, embedder, createLogger('silent'), { batch: 10 })).rejects.toThrow(/maximum context length/);
      expect((await callOk(linked.client, 'memory_stats')).embedding).toMatchObject({ records: 5, embedded: 3 });
    } finally {
      await linked.close();
    }
  });
});
