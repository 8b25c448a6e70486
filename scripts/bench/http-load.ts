/**
 * HTTP load benchmark: the built server over Streamable HTTP on a temp data
 * directory, seeded with generated memories, then many concurrent SDK client
 * sessions each calling tools one after another for a bounded time.
 *
 *   npm run bench:http -- [--seconds 30] [--sessions 50] [--memories 2000]
 *
 * The mix: 60 % search_memory (half hybrid, half keyword, all namespaces),
 * 25 % remember, 10 % get_memory (1–5 known ids), 5 % memory_stats. Every
 * call is timed client-side; a thrown call or a tool error counts as an error.
 * Prints JSON: calls, errors, throughput, p50/p95/p99 per tool and overall,
 * the server's peak RSS, and whether every acknowledged write was stored.
 *
 *   npm run bench:http -- --workers 1,2 [--seconds 30] [--sessions 50] [--client sdk|raw]
 *
 * The same load on one server run with each number of worker processes in
 * turn (`serve --workers N`, one data directory and port), each on a fresh
 * data directory; prints each run's report, the load average around it, and
 * calls/s and p99 of each run against the first. The server's CPU and RSS
 * are summed over the primary and its workers. Without --workers the server
 * runs one process (--workers 1), as before workers existed. `--client raw`
 * drives the load sessions with a lean client (raw-mcp-session.ts) instead of
 * the SDK's, whose CPU on a 2-core machine is taken from the server's share.
 * BENCH_NODE_ARGS passes options to the server's node processes, workers
 * included (e.g. "--cpu-prof --cpu-prof-dir=DIR" for a profile of each).
 *
 *   npm run bench:http -- --workers 1,2 --independent 2 [--client raw]
 *
 * After the --workers runs, one more: the same load over N servers that
 * share nothing (each its own data directory, port and store, one process
 * each), the sessions dealt to them in turn. That is the most N processes
 * can give on this machine, so it tells what --workers N loses to sharing
 * one store from what the machine loses when all its cores are busy.
 *
 *   npm run bench:http -- --replicas 1,3 --database-url postgres://… [--kill] [--checks shipped|fast] [--call-timeout-ms N]
 *
 * The same load through a real haproxy with the shipped rules, over N
 * replicas on one PostgreSQL database, for each N listed (see
 * http-replicas.ts); --kill SIGKILLs one replica at the middle of each run
 * and starts it again 2 s later. The database URL may also come from
 * PINAK_DATABASE_URL. Needs haproxy (/usr/sbin/haproxy or on PATH).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { buildIfStale, CLI } from '../lib/build.js';
import { memories, queries, seeded } from './data.js';
import { RawMcpSession } from './raw-mcp-session.js';
import { call, log, waitForIndex, type Result } from './servers.js';
import { describeMachine, summarize } from './stats.js';

export interface LoadOptions {
  seconds: number;
  sessions: number;
  /** Memories stored before the load starts. */
  memories: number;
  /** Serving processes (`--workers`); 1 when absent. */
  workers?: number;
  /** The load sessions' client: the SDK's (default) or the lean one. */
  client?: 'sdk' | 'raw';
}

/** What the load loop needs of a session: the SDK client, or the lean one. */
export type ToolCaller = Pick<Client, 'callTool'> | RawMcpSession;

/** Cumulative shares of the mix, in the order they are drawn. */
export const MIX = [
  { op: 'search_memory:hybrid', upTo: 0.3 },
  { op: 'search_memory:keyword', upTo: 0.6 },
  { op: 'remember', upTo: 0.85 },
  { op: 'get_memory', upTo: 0.95 },
  { op: 'memory_stats', upTo: 1 },
] as const;
export type Op = (typeof MIX)[number]['op'];

/** The mix as shares, for the reports. */
export const MIX_SHARES = { 'search_memory:hybrid': 0.3, 'search_memory:keyword': 0.3, remember: 0.25, get_memory: 0.1, memory_stats: 0.05 };

export interface HttpServerProcess {
  url: URL;
  pid: number;
  port: number;
  /** Stop it (SIGTERM; SIGKILL after 15 s) and wait for its exit. */
  stop(): Promise<void>;
  /** SIGKILL it at once, as a crash would, and wait for its exit. */
  kill(): Promise<void>;
}

/** A process and every process under it (a server's primary and its workers); just the process where /proc has no children lists. */
export function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children.flatMap(processTree)];
  } catch {
    return [pid];
  }
}

/** Summed over a process tree: CPU seconds, or peak RSS in MB (each process's own peak); null when none could be read. */
export function treeSum(pids: readonly number[], read: (pid: number) => number | null): number | null {
  const values = pids.map(read).filter((value): value is number => value !== null);
  return values.length === 0 ? null : Math.round(values.reduce((a, b) => a + b, 0) * 10) / 10;
}

/** Peak resident set of a process (VmHWM) in MB; null where /proc is not available. */
export function peakRssMb(pid: number): number | null {
  try {
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far; null where /proc is not available. */
export function cpuSeconds(pid: number): number | null {
  try {
    // Fields after the command name; utime and stime are the 14th and 15th of the whole line, in ticks (100 per second on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Start the built CLI over HTTP (on `port`, a free one by default) with more
 * arguments, and wait for the line that says where it listens.
 */
export async function startHttpServer(dataDir: string, { port = 0, args = [] }: { port?: number; args?: readonly string[] } = {}): Promise<HttpServerProcess> {
  // PINAK_* settings of the shell reach the server, so a run can try other settings.
  const settings = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('PINAK_') && entry[1] !== undefined));
  // One serving process unless asked otherwise (the server's default too).
  const workers = args.includes('--workers') ? Number(args[args.indexOf('--workers') + 1]) : settings.PINAK_WORKERS === undefined ? 1 : Number(settings.PINAK_WORKERS);
  const workerArgs = args.includes('--workers') || settings.PINAK_WORKERS !== undefined ? [] : ['--workers', '1'];
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), CLI, '--data-dir', dataDir, '--transport', 'http', '--port', String(port), '--log-level', 'info', ...workerArgs, ...args], {
    env: { PATH: process.env.PATH ?? '', ...settings },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = once(child, 'exit');
  // Never leave the server behind, whatever ends this process.
  const orphanGuard = (): void => void child.kill('SIGKILL');
  process.on('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));
  let stderr = '';
  let listening = false;
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the HTTP server did not start within 30 s: ${stderr}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`the HTTP server exited (${code}): ${stderr.slice(-4000)}`)));
    // Keep draining stderr for the whole run (a full pipe would stall the server's logging); keep only its tail.
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (listening) {
        stderr = stderr.slice(-4000);
        return;
      }
      const lines = stderr.split('\n').slice(0, -1);
      const line = lines.find((l) => l.includes('serving MCP over HTTP'));
      // With workers, once every one of them serves.
      if (line && (workers <= 1 || lines.some((l) => l.includes(`serving with ${workers} worker processes`)))) {
        listening = true;
        clearTimeout(timer);
        resolve(new URL((JSON.parse(line) as { url: string }).url));
      }
    });
  });
  return {
    url,
    pid: child.pid!,
    port: Number(url.port),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(killer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function connect(url: URL, name: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(url);
  const client = new Client({ name, version: '1' });
  await client.connect(transport);
  return { client, transport };
}

/** End the session on the server (DELETE), then close the client. */
export async function disconnect({ client, transport }: { client: Client; transport: StreamableHTTPClientTransport }): Promise<void> {
  await transport.terminateSession().catch(() => {});
  await client.close();
}

/** Store `count` generated memories in batches of 100; returns their ids once all are indexed (with `vectors`: a server without a model indexes none). */
export async function seed(client: Client, count: number, vectors = true): Promise<string[]> {
  const ids: string[] = [];
  const batch: Result[] = [];
  const flush = async (): Promise<void> => {
    const { stored } = await call(client, 'remember', { memories: batch.splice(0) });
    ids.push(...(stored as Array<{ id: string }>).map((m) => m.id));
  };
  for (const memory of memories(count)) {
    batch.push(memory);
    if (batch.length === 100) await flush();
  }
  if (batch.length) await flush();
  if (vectors) await waitForIndex(client);
  return ids;
}

export interface Tally {
  ms: Map<Op, number[]>;
  errors: Map<Op, number>;
  samples: string[];
  remembered: number;
}

/** One call of the load, as `runSession` reports it to its observer (times from performance.now()). */
export interface CallEvent {
  session: number;
  op: Op;
  started: number;
  ended: number;
  /** The message of a failed call (thrown, or a tool error); undefined for a success. */
  error?: string;
  /** The ids a successful remember stored. */
  stored?: string[];
}

/** One session: draw an operation, call it, time it; until the deadline. Errors are counted, never retried. */
export async function runSession(
  client: ToolCaller,
  index: number,
  ids: string[],
  deadline: number,
  tally: Tally,
  { observe, timeoutMs }: { observe?: (event: CallEvent) => void; timeoutMs?: number } = {},
): Promise<void> {
  const random = seeded(1000 + index);
  const writes = memories(Number.MAX_SAFE_INTEGER, 5000 + index);
  const qs = queries(500, 100 + index);
  while (performance.now() < deadline) {
    const draw = random();
    const op = MIX.find((m) => draw < m.upTo)?.op ?? 'memory_stats';
    let name: string;
    let args: Record<string, unknown>;
    if (op === 'search_memory:hybrid' || op === 'search_memory:keyword') {
      name = 'search_memory';
      args = { query: qs[Math.floor(random() * qs.length)], mode: op.slice('search_memory:'.length), namespace: '*', limit: 10 };
    } else if (op === 'remember') {
      name = op;
      args = { ...writes.next().value! };
    } else if (op === 'get_memory') {
      name = op;
      args = { ids: Array.from({ length: 1 + Math.floor(random() * 5) }, () => ids[Math.floor(random() * ids.length)]!) };
    } else {
      name = op;
      args = {};
    }
    const started = performance.now();
    try {
      const result = await client.callTool({ name, arguments: args }, undefined, timeoutMs === undefined ? undefined : { timeout: timeoutMs });
      if (result.isError) throw new Error(JSON.stringify(result.content).slice(0, 300));
      // The lean client does not validate answers: a success must at least carry its structured content.
      if (result.structuredContent === undefined) throw new Error(`no structured content: ${JSON.stringify(result).slice(0, 300)}`);
      const ended = performance.now();
      tally.ms.get(op)!.push(ended - started);
      let stored: string[] | undefined;
      if (op === 'remember') {
        tally.remembered += 1;
        stored = (result.structuredContent as { stored: Array<{ id: string }> }).stored.map((m) => m.id);
        ids.push(...stored);
      }
      observe?.({ session: index, op, started, ended, stored });
    } catch (error) {
      tally.errors.set(op, (tally.errors.get(op) ?? 0) + 1);
      if (tally.samples.length < 5) tally.samples.push(`${op}: ${(error as Error).message}`);
      const cause = (error as Error).cause;
      observe?.({ session: index, op, started, ended: performance.now(), error: cause instanceof Error ? `${(error as Error).message} (${cause.message})` : (error as Error).message });
    }
  }
}

/**
 * Run the whole benchmark on a fresh temp data directory and return the report.
 * With `independent` N, the same load on N servers that share nothing (each
 * its own data directory, port and store, seeded alike), run at once, the
 * sessions dealt to them in turn: the ceiling of N serving processes on this
 * machine, since nothing is shared but the cores.
 */
export async function runLoad(options: LoadOptions & { independent?: number }): Promise<Result> {
  const dataDirs = Array.from({ length: options.independent ?? 1 }, () => mkdtempSync(join(tmpdir(), 'pinak-http-load-')));
  const servers: HttpServerProcess[] = [];
  try {
    for (const dataDir of dataDirs) servers.push(await startHttpServer(dataDir, { args: ['--workers', String(options.workers ?? 1)] }));
    log(`seeding ${options.memories} memories${servers.length > 1 ? ` in each of ${servers.length} servers` : ''}`);
    const seeders = await Promise.all(servers.map((server) => connect(server.url, 'http-load-seed')));
    const idsByServer = await Promise.all(seeders.map((seeder) => seed(seeder.client, options.memories)));

    log(`opening ${options.sessions} sessions`);
    const connectStarted = performance.now();
    const sessions: Array<{ client: ToolCaller; server: number; close(): Promise<void> }> = await Promise.all(
      Array.from({ length: options.sessions }, async (_, i) => {
        const server = i % servers.length;
        const url = servers[server]!.url;
        if (options.client === 'raw') {
          const raw = await RawMcpSession.open(url, `http-load-${i}`);
          return { client: raw, server, close: () => raw.close() };
        }
        const sdk = await connect(url, `http-load-${i}`);
        return { client: sdk.client, server, close: () => disconnect(sdk) };
      }),
    );
    const connectMs = performance.now() - connectStarted;

    log(`${options.sessions} sessions calling for ${options.seconds} s`);
    const tally: Tally = { ms: new Map(MIX.map((m) => [m.op, []])), errors: new Map(), samples: [], remembered: 0 };
    const pids = servers.flatMap((server) => processTree(server.pid));
    const serverCpuBefore = treeSum(pids, cpuSeconds);
    const clientCpuBefore = process.cpuUsage();
    const loadBefore = loadavg()[0]!;
    const started = performance.now();
    await Promise.all(sessions.map(({ client, server }, i) => runSession(client, i, idsByServer[server]!, started + options.seconds * 1000, tally)));
    const elapsedS = (performance.now() - started) / 1000;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const serverCpuAfter = treeSum(pids, cpuSeconds);
    const rssMb = treeSum(pids, peakRssMb);
    const loadAfter = loadavg()[0]!;
    await Promise.all(sessions.map((session) => session.close()));

    const stats = await Promise.all(seeders.map((seeder) => call(seeder.client, 'memory_stats', {})));
    await Promise.all(seeders.map(disconnect));

    const all = [...tally.ms.values()].flat();
    const errors = [...tally.errors.values()].reduce((a, b) => a + b, 0);
    const perOp = Object.fromEntries(MIX.map(({ op }) => [op, { ...summarize(tally.ms.get(op)!), errors: tally.errors.get(op) ?? 0 }]));
    const searches = [...tally.ms.get('search_memory:hybrid')!, ...tally.ms.get('search_memory:keyword')!];
    const seeded = idsByServer.reduce((sum, ids) => sum + ids.length, 0) - tally.remembered;
    return {
      when: new Date().toISOString(),
      machine: describeMachine(),
      settings: { ...options, workers: options.workers ?? 1, independent_servers: servers.length, mix: MIX_SHARES },
      // The machine's 1-minute load average as the load started and ended (other work running shows here).
      load_average: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadAfter * 100) / 100 },
      server_processes: pids.length,
      calls: all.length + errors,
      errors,
      error_samples: tally.samples,
      seconds: Math.round(elapsedS * 10) / 10,
      throughput_per_s: Math.round((all.length + errors) / elapsedS),
      connect_all_sessions_ms: Math.round(connectMs),
      latency_ms: { overall: summarize(all), search_memory: summarize(searches), ...perOp },
      // Summed over the server's processes (each one's own peak).
      server_peak_rss_mb: rssMb,
      // Where the time went during the load: the server processes, and this process running every client.
      cpu_seconds: {
        server: serverCpuBefore === null || serverCpuAfter === null ? null : Math.round((serverCpuAfter - serverCpuBefore) * 10) / 10,
        clients: Math.round((clientCpu.user + clientCpu.system) / 1e5) / 10,
      },
      memories_stored: { seeded, remembered_during_load: tally.remembered, total_reported_by_server: stats.reduce((sum, s) => sum + (s.memories_total as number), 0) },
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    for (const dataDir of dataDirs) rmSync(dataDir, { recursive: true, force: true });
  }
}

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
}

/** --workers 1,2: numbers of serving processes, each run in turn. */
export function workerCounts(value: string): number[] {
  const counts = value.split(',').map((part) => part.trim());
  if (counts.some((part) => !/^\d+$/.test(part) || Number(part) < 1 || Number(part) > 64)) {
    throw new Error(`--workers must be a comma-separated list of counts from 1 to 64 (e.g. 1,2), got ${JSON.stringify(value)}`);
  }
  return counts.map(Number);
}

/** --replicas 1,3: counts of replicas, each run in turn. */
export function replicaCounts(value: string): number[] {
  const counts = value.split(',').map((part) => part.trim());
  if (counts.some((part) => !/^\d+$/.test(part) || Number(part) < 1 || Number(part) > 16)) {
    throw new Error(`--replicas must be a comma-separated list of counts from 1 to 16 (e.g. 1,3), got ${JSON.stringify(value)}`);
  }
  return counts.map(Number);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      seconds: { type: 'string', default: '30' },
      sessions: { type: 'string', default: '50' },
      memories: { type: 'string', default: '2000' },
      replicas: { type: 'string' },
      'database-url': { type: 'string' },
      kill: { type: 'boolean', default: false },
      checks: { type: 'string' },
      'call-timeout-ms': { type: 'string' },
      workers: { type: 'string' },
      independent: { type: 'string' },
      client: { type: 'string', default: 'sdk' },
    },
  });
  if (values.client !== 'sdk' && values.client !== 'raw') throw new Error(`--client must be sdk or raw, got ${JSON.stringify(values.client)}`);
  const options = {
    seconds: positiveInt(values.seconds, '--seconds'),
    sessions: positiveInt(values.sessions, '--sessions'),
    memories: positiveInt(values.memories, '--memories'),
    client: values.client as 'sdk' | 'raw',
  };
  if (values.replicas !== undefined && values.workers !== undefined) throw new Error('--workers and --replicas are two runs of their own: give one of them');
  if (values.replicas === undefined) {
    for (const flag of ['database-url', 'checks', 'call-timeout-ms'] as const) if (values[flag] !== undefined) throw new Error(`--${flag} goes with --replicas`);
    if (values.kill) throw new Error('--kill goes with --replicas');
    if (values.independent !== undefined && values.workers === undefined) throw new Error('--independent goes with --workers (e.g. --workers 1,2 --independent 2)');
    buildIfStale();
    if (values.workers !== undefined) {
      const counts = workerCounts(values.workers);
      const independent = values.independent === undefined ? undefined : positiveInt(values.independent, '--independent');
      const runs: Result[] = [];
      for (const workers of counts) {
        log(`--workers ${workers}`);
        runs.push(await runLoad({ ...options, workers }));
      }
      if (independent !== undefined) {
        log(`${independent} independent servers`);
        runs.push(await runLoad({ ...options, independent }));
      }
      const first = runs[0]!;
      const comparison = runs.map((run) => ({
        workers: run.settings.workers,
        independent_servers: run.settings.independent_servers,
        calls_per_s: run.throughput_per_s,
        p50_ms: run.latency_ms.overall.p50,
        p99_ms: run.latency_ms.overall.p99,
        errors: run.errors,
        load_average: run.load_average,
        calls_per_s_vs_first: Math.round((run.throughput_per_s / first.throughput_per_s) * 100) / 100,
        p99_vs_first: Math.round((run.latency_ms.overall.p99 / first.latency_ms.overall.p99) * 100) / 100,
      }));
      process.stdout.write(`${JSON.stringify({ comparison, runs }, null, 2)}\n`);
      if (runs.some((run) => run.errors > 0)) process.exitCode = 1;
      return;
    }
    const report = await runLoad(options);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.errors > 0) process.exitCode = 1;
    return;
  }
  const replicas = replicaCounts(values.replicas);
  const databaseUrl = values['database-url'] ?? process.env.PINAK_DATABASE_URL;
  if (!databaseUrl) throw new Error('--replicas needs a PostgreSQL server: --database-url postgres://user@host:port/db (or PINAK_DATABASE_URL); each run creates a database of its own there and drops it at the end');
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('--database-url must be a postgres:// or postgresql:// URL');
  const checks = values.checks ?? 'shipped';
  if (checks !== 'shipped' && checks !== 'fast') throw new Error(`--checks must be shipped or fast, got ${JSON.stringify(checks)}`);
  buildIfStale();
  const { runReplicas } = await import('./http-replicas.js');
  const callTimeoutMs = values['call-timeout-ms'] === undefined ? undefined : positiveInt(values['call-timeout-ms'], '--call-timeout-ms');
  const report = await runReplicas({ ...options, replicas, databaseUrl, kill: values.kill, checks, callTimeoutMs });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  // Errors are expected when a replica is killed; a lost write, or a session never served again, never is.
  const failed = report.runs.some((run: Result) => !run.writes.every_acknowledged_write_stored || (run.kill === null ? run.errors > 0 : run.kill.recovery.recovery_ms === null));
  if (failed) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:http: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
