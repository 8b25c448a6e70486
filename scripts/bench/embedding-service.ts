/**
 * Embedding through a service over HTTP against the bundled model in this
 * process: how long identification takes, texts per second at --embed-batch
 * sizes, a search query's embedding latency, and how fast calls fail while
 * the service is down (the circuit answers without a request).
 *
 *   npm run bench:embed-service -- [--texts 2000] [--batches 8,32,128] [--provider ollama]
 *
 * The service is the test suite's (scripts/lib/embedding-service.ts) on
 * loopback, answering with the bundled model's vectors computed in its own
 * event loop (this process): the numbers are the client's overhead
 * (JSON, HTTP, checks) plus that computation, not a real model's. Prints JSON.
 */
import { parseArgs } from 'node:util';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { EmbeddingServiceClient, RemoteEmbedder, type RemoteEmbedderOptions } from '../../src/embeddings/remote-embedder.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';
import { startEmbeddingService, type Provider } from '../lib/embedding-service.js';
import { memories, queries } from './data.js';
import { describeMachine, summarize } from './stats.js';

const { values: flags } = parseArgs({
  options: { texts: { type: 'string', default: '2000' }, batches: { type: 'string', default: '8,32,128' }, provider: { type: 'string', default: 'ollama' }, queries: { type: 'string', default: '200' } },
});
const count = Number(flags.texts);
const batches = flags.batches.split(',').map(Number);
const provider = flags.provider as Provider;
const texts = [...memories(count)].map((m) => m.content);
const probes = queries(Number(flags.queries));

const service = await startEmbeddingService(provider);
const options = (batch: number): RemoteEmbedderOptions => ({ provider, url: service.url, model: provider === 'tei' ? null : 'bench', apiKey: null, timeoutMs: 10_000, dimensions: null, batch });

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

const identify = await timed(async () => {
  const client = new EmbeddingServiceClient(options(32));
  return { client, embedder: await RemoteEmbedder.identify(client, options(32)) };
});

const throughput: Array<Record<string, number | string>> = [];
for (const batch of batches) {
  const client = new EmbeddingServiceClient(options(batch));
  const embedder = await RemoteEmbedder.identify(client, options(batch));
  const before = service.requests.length;
  const run = await timed(() => embedder.embed(texts));
  throughput.push({ engine: `${provider} service`, batch, texts_per_s: Math.round((count / run.ms) * 1000), requests: service.requests.length - before });
  await embedder.close();
}
const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
for (const batch of batches) {
  const local = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 1, maxBatch: batch });
  const run = await timed(() => local.embed(texts));
  throughput.push({ engine: 'bundled, 1 worker thread', batch, texts_per_s: Math.round((count / run.ms) * 1000) });
  await local.close();
}

// One query at a time, as search embeds it.
const queryMs: number[] = [];
for (const query of probes) queryMs.push((await timed(() => identify.value.embedder.embed([query]))).ms);

// The service goes away: the first call tries (connection refused, retried with backoff), the next ones fail at once.
await service.stop();
const firstFailure = await timed(() => identify.value.embedder.embed(['a query']).catch(() => null));
const openMs: number[] = [];
for (let i = 0; i < 100; i++) openMs.push((await timed(() => identify.value.embedder.embed(['a query']).catch(() => null))).ms);
await identify.value.embedder.close();

process.stdout.write(`${JSON.stringify({
  benchmark: 'embedding-service',
  machine: describeMachine(),
  provider,
  texts: count,
  identify_ms: Math.round(identify.ms * 10) / 10,
  throughput,
  query_embed_ms: summarize(queryMs),
  service_down: { first_call_ms: Math.round(firstFailure.ms), while_circuit_open_ms: summarize(openMs) },
}, null, 2)}\n`);
