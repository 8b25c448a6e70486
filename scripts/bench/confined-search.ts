/**
 * Search by a namespace-limited key (confined: scored from its namespace
 * alone) against the same search by a key without a limit, over HTTP with
 * the built server, and how much a confined search's time still depends on
 * other namespaces.
 *
 *   npm run bench:confined -- [--memories 100000] [--namespace-size 10000] [--queries 200]
 *                             [--probe-namespace-size 1000] [--probe-rows 100000] [--parts latency,probe,scan]
 *
 * latency: a store of --memories generated memories, --namespace-size of them
 *   in one namespace; each query searched there by an admin key (unconfined)
 *   and by a reader key limited to it (confined), alternately, per mode; the
 *   second of two passes is reported, as in the main benchmark.
 * probe: a namespace of --probe-namespace-size memories, ten holding a probe
 *   word and ten a control word; its limited key searches both, alternately,
 *   as other namespaces get 0, then --probe-rows (cumulative counts)
 *   memories holding the probe word. The answers must not change; the times
 *   show what a key could learn from them.
 * scan: the exact vector scan a confined search makes (in process), for
 *   namespaces of 10,000 to 200,000 vectors of 100 and 384 dimensions.
 * Prints JSON on stdout; progress on stderr.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { VectorSlab } from '../../src/vector/vector-slab.js';
import { buildIfStale, CLI } from '../lib/build.js';
import { memories, queries, seeded, type BenchMemory } from './data.js';
import { call, log, waitForIndex, type Result } from './servers.js';
import { describeMachine, summarize } from './stats.js';

const TENANT = 'bench';
const PROBE = 'zyzzyva';
const CONTROL = 'quokka';
const MODES = ['keyword', 'hybrid', 'vector'] as const;

interface Running {
  url: URL;
  stop(): Promise<void>;
}

/** The built CLI over HTTP on a free port, keys required, no rate limit. */
async function startServer(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, '--transport', 'http', '--port', '0', '--workers', '1', '--rate-limit-per-minute', '0', '--log-level', 'info'], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const orphanGuard = (): void => void child.kill('SIGKILL');
  process.on('exit', orphanGuard);
  const exited = once(child, 'exit');
  let stderr = '';
  let listening = false;
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${stderr}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr.slice(-2000)}`)));
    // Drained for the whole run: a full pipe would stall the server's logging.
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
      const line = listening ? undefined : stderr.split('\n').find((l) => l.includes('serving MCP over HTTP'));
      if (line) {
        listening = true;
        clearTimeout(timer);
        resolve(new URL((JSON.parse(line) as { url: string }).url));
      }
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      process.off('exit', orphanGuard);
    },
  };
}

function createKey(dataDir: string, args: string[]): string {
  return execFileSync(process.execPath, [CLI, '--data-dir', dataDir, 'keys', 'create', '--tenant', TENANT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

async function keyed(url: URL, key: string, name: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  const client = new Client({ name, version: '1' });
  await client.connect(transport);
  return client;
}

async function store(client: Client, data: Iterable<BenchMemory>, total: number): Promise<void> {
  let batch: BenchMemory[] = [];
  let done = 0;
  for (const memory of data) {
    batch.push(memory);
    if (batch.length === 100) {
      await call(client, 'remember', { memories: batch });
      done += batch.length;
      batch = [];
      if (done % 10_000 === 0) log(`stored ${done}/${total}`);
    }
  }
  if (batch.length) await call(client, 'remember', { memories: batch });
  await waitForIndex(client);
}

async function timedSearch(client: Client, args: Record<string, unknown>): Promise<{ ms: number; result: Result }> {
  const started = performance.now();
  const result = await call(client, 'search_memory', args);
  return { ms: performance.now() - started, result };
}

async function latency(options: { memories: number; namespaceSize: number; queries: number }): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'pinak-bench-confined-'));
  try {
    const adminKey = createKey(dir, ['--role', 'admin']);
    const readerKey = createKey(dir, ['--role', 'reader', '--namespaces', 'target']);
    const server = await startServer(dir);
    try {
      const admin = await keyed(server.url, adminKey, 'admin');
      const reader = await keyed(server.url, readerKey, 'reader');
      const every = Math.max(1, Math.round(options.memories / options.namespaceSize));
      const data = (function* () {
        let i = 0;
        for (const memory of memories(options.memories)) yield i++ % every === 0 ? { ...memory, namespace: 'target' } : memory;
      })();
      const started = performance.now();
      await store(admin, data, options.memories);
      log(`stored and indexed in ${Math.round((performance.now() - started) / 1000)} s`);
      const qs = queries(options.queries);
      const modes: Result = {};
      for (const mode of MODES) {
        for (const q of qs.slice(0, 10)) {
          await call(admin, 'search_memory', { query: q, namespace: 'target', mode });
          await call(reader, 'search_memory', { query: q, mode });
        }
        let unconfined: number[] = [];
        let confined: number[] = [];
        for (let pass = 0; pass < 2; pass++) {
          unconfined = [];
          confined = [];
          for (const q of qs) {
            unconfined.push((await timedSearch(admin, { query: q, namespace: 'target', mode })).ms);
            confined.push((await timedSearch(reader, { query: q, mode })).ms);
          }
        }
        modes[mode] = { unconfined: summarize(unconfined), confined: summarize(confined) };
        log(`${mode}: unconfined p50 ${modes[mode].unconfined.p50} ms, confined p50 ${modes[mode].confined.p50} ms`);
      }
      await admin.close();
      await reader.close();
      return { memories: options.memories, namespace_size: Math.ceil(options.memories / every), queries: qs.length, modes };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function probe(options: { namespaceSize: number; rows: number[]; repeats: number }): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'pinak-bench-probe-'));
  try {
    const adminKey = createKey(dir, ['--role', 'admin']);
    const readerKey = createKey(dir, ['--role', 'reader', '--namespaces', 'alpha']);
    const server = await startServer(dir);
    try {
      const admin = await keyed(server.url, adminKey, 'admin');
      const reader = await keyed(server.url, readerKey, 'reader');
      const own = (function* () {
        let i = 0;
        for (const memory of memories(options.namespaceSize, 1)) {
          const word = i < 10 ? ` ${PROBE}` : i < 20 ? ` ${CONTROL}` : '';
          i++;
          yield { ...memory, content: memory.content + word, namespace: 'alpha' };
        }
      })();
      await store(admin, own, options.namespaceSize);
      const measure = async (): Promise<{ times: Result; answers: unknown[] }> => {
        const times: Result = {};
        const answers: unknown[] = [];
        for (const mode of ['keyword', 'hybrid'] as const) {
          for (const word of [PROBE, CONTROL]) {
            for (let i = 0; i < 20; i++) await call(reader, 'search_memory', { query: word, mode });
          }
          const ms: Record<string, number[]> = { [PROBE]: [], [CONTROL]: [] };
          // Alternately, so both words see the same moments of a shared machine.
          for (let i = 0; i < options.repeats; i++) {
            for (const word of [PROBE, CONTROL]) {
              const { ms: took, result } = await timedSearch(reader, { query: word, mode });
              ms[word]!.push(took);
              if (i === 0) answers.push(result);
            }
          }
          times[mode] = { probe: summarize(ms[PROBE]!), control: summarize(ms[CONTROL]!) };
        }
        return { times, answers };
      };
      const baseline = await measure();
      log(`probe with 0 other rows: ${JSON.stringify(baseline.times)}`);
      const steps: Result[] = [{ other_rows_with_probe_word: 0, ...baseline.times }];
      let identical = true;
      // Other namespaces' memories holding the probe word, added step by step (cumulative counts).
      const random = seeded(99);
      const others = memories(Math.max(...options.rows), 2);
      let held = 0;
      for (const rows of [...options.rows].sort((a, b) => a - b)) {
        const batch = (function* () {
          for (; held < rows; held++) {
            const memory = others.next().value as BenchMemory;
            yield { ...memory, content: `${memory.content} ${PROBE}`, namespace: random() < 0.5 ? 'beta' : 'gamma' };
          }
        })();
        await store(admin, batch, rows - held);
        const now = await measure();
        log(`probe with ${rows} other rows: ${JSON.stringify(now.times)}`);
        identical &&= JSON.stringify(now.answers) === JSON.stringify(baseline.answers);
        steps.push({ other_rows_with_probe_word: rows, ...now.times });
      }
      await admin.close();
      await reader.close();
      return { namespace_size: options.namespaceSize, repeats: options.repeats, answers_identical: identical, steps };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The exact scan alone: every admitted vector scored, top 50 kept. */
function scan(): Result {
  const random = seeded(5);
  const results: Result[] = [];
  for (const dimension of [100, 384]) {
    for (const size of [10_000, 50_000, 100_000, 200_000]) {
      if (dimension * size > 40_000_000) continue;
      const slab = new VectorSlab(dimension, size);
      const vector = new Float32Array(dimension);
      for (let id = 1; id <= size; id++) {
        for (let j = 0; j < dimension; j++) vector[j] = random() - 0.5;
        slab.set(id, vector);
      }
      const admitted = Array.from({ length: size }, (_, i) => i + 1);
      const ms: number[] = [];
      for (let i = 0; i < 25; i++) {
        for (let j = 0; j < dimension; j++) vector[j] = random() - 0.5;
        const started = performance.now();
        slab.search(vector, 50, admitted);
        if (i >= 5) ms.push(performance.now() - started);
      }
      results.push({ dimension, vectors: size, ms: summarize(ms) });
      log(`scan ${size} × ${dimension}: p50 ${summarize(ms).p50} ms`);
    }
  }
  return { results };
}

const { values } = parseArgs({
  options: {
    memories: { type: 'string', default: '100000' },
    'namespace-size': { type: 'string', default: '10000' },
    queries: { type: 'string', default: '200' },
    'probe-namespace-size': { type: 'string', default: '1000' },
    'probe-rows': { type: 'string', default: '1000,10000,100000' },
    'probe-repeats': { type: 'string', default: '300' },
    parts: { type: 'string', default: 'latency,probe,scan' },
  },
});
const positive = (flag: string): number => {
  const n = Number(values[flag as keyof typeof values]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:confined: --${flag} needs a positive whole number\n`);
    process.exit(1);
  }
  return n;
};
const parts = new Set(values.parts.split(','));
const report: Result = { machine: describeMachine() };
buildIfStale();
try {
  if (parts.has('scan')) report.scan = scan();
  if (parts.has('probe')) {
    const rows = values['probe-rows'].split(',').map(Number);
    if (rows.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--probe-rows needs comma-separated positive whole numbers');
    report.probe = await probe({ namespaceSize: positive('probe-namespace-size'), rows, repeats: positive('probe-repeats') });
  }
  if (parts.has('latency')) report.latency = await latency({ memories: positive('memories'), namespaceSize: positive('namespace-size'), queries: positive('queries') });
} catch (error) {
  process.stderr.write(`bench:confined: ${(error as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
