/**
 * The HTTP load benchmark through a real haproxy with the shipped rules, over
 * N replicas on one PostgreSQL database (`npm run bench:http -- --replicas
 * 1,3 --database-url postgres://…`): for each N, a fresh database on that
 * server (dropped at the end), N built servers on it with --replica-name
 * pinakK, haproxy in front (scripts/lib/haproxy.ts), seeding and then the
 * load of http-load.ts, every request through the proxy.
 *
 * With `kill`, at the middle of the run one replica is SIGKILLed and started
 * again 2 s later with the same arguments on the same port; the proxy's
 * health checks take it out and bring it back. Clients never retry: a failed
 * call is counted and the session goes on with its next call.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../lib/free-port.js';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { redactDatabaseUrl } from '../../src/domain/database-url.js';
import { FAST_CHECKS, startHaproxy, type Haproxy } from '../lib/haproxy.js';
import { SHIPPED_HAPROXY } from '../lib/haproxy-config.js';
import {
  connect,
  cpuSeconds,
  disconnect,
  MIX,
  MIX_SHARES,
  peakRssMb,
  runSession,
  seed,
  startHttpServer,
  type CallEvent,
  type HttpServerProcess,
  type LoadOptions,
  type Tally,
} from './http-load.js';
import { countMessages, perSecond, recoveryAfter } from './replica-stats.js';
import { call, log, type Result } from './servers.js';
import { describeMachine, summarize } from './stats.js';

export interface ReplicaOptions extends LoadOptions {
  /** Runs, one per count of replicas, in this order. */
  replicas: readonly number[];
  /** A PostgreSQL server to create each run's database on (the URL's user must be allowed to CREATE DATABASE). */
  databaseUrl: string;
  /** SIGKILL one replica at the middle of each run, and restart it 2 s later. */
  kill: boolean;
  /** The proxy's health checks: the shipped ones (every 2 s, out after 2 failures, back after 2 successes) or the tests' (every 200 ms, 2, 1). */
  checks: 'shipped' | 'fast';
  /** How long a client waits for a call's answer before counting it failed; undefined: the SDK's default (60 s). */
  callTimeoutMs?: number;
}

/** How long a killed replica stays down before it is started again. */
const RESTART_AFTER_MS = 2000;
/** The seconds around the kill reported one by one. */
const BUCKETS = { from: -3, to: 10 };

/** Run the benchmark for each count of replicas in turn; one report with a run each. */
export async function runReplicas(options: ReplicaOptions): Promise<Result> {
  const runs: Result[] = [];
  for (const n of options.replicas) {
    log(`--- ${n} replica${n === 1 ? '' : 's'}${options.kill ? ', one killed mid-run' : ''}`);
    runs.push(await runReplicaLoad(n, options));
  }
  const { replicas, databaseUrl, callTimeoutMs, ...rest } = options;
  return {
    when: new Date().toISOString(),
    machine: describeMachine(),
    settings: { ...rest, replicas, database: redactDatabaseUrl(databaseUrl), call_timeout_ms: callTimeoutMs ?? 'the SDK default (60000)', clients_retry: false, mix: MIX_SHARES },
    summary: runs.map((run) => ({
      replicas: run.replicas,
      killed: run.kill !== null,
      throughput_per_s: run.throughput_per_s,
      p50_ms: run.latency_ms.overall.p50,
      p99_ms: run.latency_ms.overall.p99,
      errors: run.errors,
      recovery_ms: run.kill?.recovery.recovery_ms ?? null,
      recovery_ms_of_recovered_sessions: run.kill?.recovery.recovery_ms_of_recovered_sessions ?? null,
      sessions_recovered: run.kill ? `${run.kill.recovery.sessions_recovered}/${run.kill.recovery.sessions}` : null,
      server_cpu_s: run.cpu_seconds.servers,
      postgres_cpu_s: run.cpu_seconds.postgres_backends,
      load_average_1m: run.load_average.before[0],
      every_acknowledged_write_stored: run.writes.every_acknowledged_write_stored,
    })),
    runs,
  };
}

/** A replica: its name, port and arguments, and the process currently running it. */
interface Replica {
  name: string;
  port: number;
  dataDir: string;
  args: string[];
  process: HttpServerProcess;
  /** CPU seconds the process killed mid-run had used at its kill; null if it was not killed. */
  cpuAtKill: number | null;
}

async function runReplicaLoad(n: number, options: ReplicaOptions): Promise<Result> {
  const loadBefore = loadavg();
  const database = await createDatabase(options.databaseUrl);
  const replicas: Replica[] = [];
  let proxy: Haproxy | null = null;
  try {
    const embedding = database.pgvector
      ? { args: [] as string[], model: 'bundled', note: null }
      : { args: ['--embed-model', 'none'], model: 'none', note: 'the database has no pgvector: the servers run with --embed-model none, so hybrid searches are keyword searches' };
    log(`database ${database.name}${database.pgvector ? ' (pgvector)' : ' (no pgvector: --embed-model none)'}; starting ${n} replica(s)`);
    const started = await Promise.all(
      Array.from({ length: n }, async (_, i): Promise<Replica> => {
        const name = `pinak${i + 1}`;
        const dataDir = mkdtempSync(join(tmpdir(), `pinak-bench-${name}-`));
        const args = [
          '--database-url', database.url,
          '--replica-name', name,
          // Clients reach the servers through the proxy's port; every connection comes from its address.
          '--allowed-hosts', '127.0.0.1',
          '--max-connections-per-address', '1000',
          ...embedding.args,
        ];
        const port = await freePort();
        return { name, port, dataDir, args, process: await startHttpServer(dataDir, { port, args }), cpuAtKill: null };
      }),
    );
    replicas.push(...started);
    const check = options.checks === 'fast' ? FAST_CHECKS : SHIPPED_HAPROXY.check;
    proxy = await startHaproxy(replicas.map((replica) => ({ name: replica.name, port: replica.port })), check);
    const endpoint = new URL('/mcp', proxy.url);

    log(`seeding ${options.memories} memories through the proxy`);
    const seeder = await connect(endpoint, 'http-load-seed');
    const ids = await seed(seeder.client, options.memories, embedding.model !== 'none');
    const seeded = ids.length;

    log(`opening ${options.sessions} sessions through the proxy`);
    const connectStarted = performance.now();
    const sessions = await Promise.all(Array.from({ length: options.sessions }, (_, i) => connect(endpoint, `http-load-${i}`)));
    const connectMs = performance.now() - connectStarted;

    log(`${options.sessions} sessions calling for ${options.seconds} s${options.kill ? `; ${replicas[n - 1]!.name} killed at ${options.seconds / 2} s` : ''}`);
    const tally: Tally = { ms: new Map(MIX.map((m) => [m.op, []])), errors: new Map(), samples: [], remembered: 0 };
    const events: CallEvent[] = [];
    const acknowledged: string[] = [];
    const observe = (event: CallEvent): void => {
      events.push(event);
      if (event.stored) acknowledged.push(...event.stored);
    };
    const pids = replicas.map((replica) => replica.process.pid);
    const cpuBefore = pids.map(cpuSeconds);
    const proxyCpuBefore = cpuSeconds(proxy.pid);
    const backendsBefore = await database.backendCpu();
    const clientCpuBefore = process.cpuUsage();
    const start = performance.now();
    const deadline = start + options.seconds * 1000;
    const killing = options.kill ? killAndRestart(replicas[n - 1]!, proxy, start + (options.seconds * 1000) / 2) : null;
    killing?.catch(() => {}); // awaited (and thrown) after the load
    await Promise.all(sessions.map(({ client }, i) => runSession(client, i, ids, deadline, tally, { observe, timeoutMs: options.callTimeoutMs })));
    const elapsedS = (performance.now() - start) / 1000;
    // Calls that ended within the planned seconds: a call left hanging (its replica killed mid-answer) must not stretch the window.
    const inWindow = events.filter((event) => event.ended <= deadline);
    const windowS = options.seconds;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const killed = killing ? await killing : null;
    const cpuAfter = replicas.map((replica) => cpuSeconds(replica.process.pid));
    const proxyCpuAfter = cpuSeconds(proxy.pid);
    const backendsAfter = await database.backendCpu();
    const rssMb = replicas.map((replica) => peakRssMb(replica.process.pid));
    await Promise.all(sessions.map(disconnect));

    log('checking that every acknowledged write is stored');
    const writes = await checkWrites(seeder.client, acknowledged, seeded);
    await disconnect(seeder);

    const all = [...tally.ms.values()].flat();
    const errors = [...tally.errors.values()].reduce((a, b) => a + b, 0);
    const perOp = Object.fromEntries(MIX.map(({ op }) => [op, { ...summarize(tally.ms.get(op)!), errors: tally.errors.get(op) ?? 0 }]));
    const searches = [...tally.ms.get('search_memory:hybrid')!, ...tally.ms.get('search_memory:keyword')!];
    const serverCpu = replicas.map((replica, i) => {
      const before = cpuBefore[i];
      const after = cpuAfter[i];
      if (before === null || before === undefined || after === null || after === undefined || (replica.cpuAtKill === null && replica.process.pid !== pids[i])) return null;
      // A replica killed and restarted: what the killed process used since the start, plus all the new one used (its start included).
      return replica.cpuAtKill === null ? after - before : replica.cpuAtKill - before + after;
    });
    const outcomes = events.map((event) => ({ session: event.session, started: event.started, ended: event.ended, ok: event.error === undefined }));
    return {
      replicas: n,
      database: { name: database.name, pgvector: database.pgvector, embed_model: embedding.model, note: embedding.note },
      proxy: {
        rules: 'deploy/haproxy.cfg (scripts/lib/haproxy-config.ts)',
        health_checks: options.checks === 'fast' ? `the tests' (inter ${check.inter}, fall ${check.fall}, rise ${check.rise})` : `shipped (inter ${check.inter}, fall ${check.fall}, rise ${check.rise})`,
      },
      load_average: { before: loadBefore.map(round2), after: loadavg().map(round2) },
      calls: all.length + errors,
      errors,
      errors_by_message: countMessages(events.flatMap((event) => (event.error === undefined ? [] : [`${event.op}: ${event.error}`]))),
      seconds: options.seconds,
      // Until the last session's last call ended: longer than the planned seconds when a call hung past them.
      seconds_until_last_call_ended: round1(elapsedS),
      calls_ended_after_the_window: events.length - inWindow.length,
      throughput_per_s: Math.round(inWindow.length / windowS),
      successful_per_s: Math.round(inWindow.filter((event) => event.error === undefined).length / windowS),
      connect_all_sessions_ms: Math.round(connectMs),
      latency_ms: { overall: summarize(all), search_memory: summarize(searches), ...perOp },
      servers_peak_rss_mb: rssMb,
      cpu_seconds: {
        servers: serverCpu.some((s) => s === null) ? null : round1(serverCpu.reduce((a: number, b) => a + b!, 0)),
        per_server: serverCpu.map((s) => (s === null ? null : round1(s))),
        proxy: proxyCpuBefore === null || proxyCpuAfter === null ? null : round1(proxyCpuAfter - proxyCpuBefore),
        // The PostgreSQL backends serving this run's database (null where their processes cannot be read: another machine or container).
        postgres_backends: backendsBefore === null || backendsAfter === null ? null : round1([...backendsAfter].reduce((sum, [pid, cpu]) => sum + cpu - (backendsBefore.get(pid) ?? 0), 0)),
        clients: Math.round((clientCpu.user + clientCpu.system) / 1e5) / 10,
      },
      kill: killed
        ? {
            replica: killed.replica,
            killed_at_s: round1((killed.killedAt - start) / 1000),
            restarted_after_ms: Math.round(killed.listeningAt - killed.killedAt),
            proxy_saw_it_down_after_ms: killed.downAt === null ? null : Math.round(killed.downAt - killed.killedAt),
            proxy_saw_it_up_after_ms: killed.upAt === null ? null : Math.round(killed.upAt - killed.killedAt),
            recovery: recoveryAfter(outcomes, options.sessions, killed.killedAt),
            calls_per_second_around_kill: perSecond(outcomes, killed.killedAt, BUCKETS.from, BUCKETS.to),
          }
        : null,
      writes,
    };
  } finally {
    await proxy?.stop();
    await Promise.all(replicas.map((replica) => replica.process.stop()));
    for (const replica of replicas) rmSync(replica.dataDir, { recursive: true, force: true });
    await database.drop();
  }
}

interface Killed {
  replica: string;
  killedAt: number;
  listeningAt: number;
  /** When the proxy logged the replica DOWN, and UP again; null if it did not (within the run). */
  downAt: number | null;
  upAt: number | null;
}

/** At `at`, SIGKILL the replica; 2 s later start it again with the same arguments on the same port; follow the proxy's view of it. */
async function killAndRestart(replica: Replica, proxy: Haproxy, at: number): Promise<Killed> {
  await sleep(at - performance.now());
  const offset = proxy.output().length;
  const cpu = cpuSeconds(replica.process.pid);
  const killedAt = performance.now();
  await replica.process.kill();
  log(`killed ${replica.name} (SIGKILL)`);
  replica.cpuAtKill = cpu;
  let downAt: number | null = null;
  let upAt: number | null = null;
  const watching = setInterval(() => {
    const said = proxy.output().slice(offset);
    if (downAt === null && said.includes(`Server pinak/${replica.name} is DOWN`)) downAt = performance.now();
    if (downAt !== null && upAt === null && said.slice(said.indexOf(`Server pinak/${replica.name} is DOWN`)).includes(`Server pinak/${replica.name} is UP`)) upAt = performance.now();
  }, 20);
  try {
    await sleep(killedAt + RESTART_AFTER_MS - performance.now());
    replica.process = await startHttpServer(replica.dataDir, { port: replica.port, args: replica.args });
    const listeningAt = performance.now();
    log(`${replica.name} started again`);
    // Wait for the proxy to take it back (its checks need `rise` successes), at most 30 s; if its checks never
    // saw it down (back before `fall` failures), there is nothing to wait for once they would have.
    while (upAt === null && performance.now() - killedAt < 30_000 && (downAt !== null || performance.now() - killedAt < 10_000)) await sleep(50);
    return { replica: replica.name, killedAt, listeningAt, downAt, upAt };
  } finally {
    clearInterval(watching);
  }
}

/** Fetch every acknowledged write back through the proxy (get_memory, 10 ids a call), and compare the server's count. */
async function checkWrites(client: Parameters<typeof seed>[0], acknowledged: readonly string[], seeded: number): Promise<Result> {
  const missing: string[] = [];
  for (let i = 0; i < acknowledged.length; i += 10) {
    const { missing: notThere } = await call(client, 'get_memory', { ids: acknowledged.slice(i, i + 10) });
    missing.push(...(notThere as string[]));
  }
  const stats = await call(client, 'memory_stats', {});
  const total = stats.memories_total as number;
  return {
    seeded,
    acknowledged_during_load: acknowledged.length,
    acknowledged_missing: missing.length,
    missing_samples: missing.slice(0, 5),
    total_reported_by_server: total,
    // A remember whose answer was lost (its replica killed after the commit) is stored without being acknowledged.
    stored_without_acknowledgement: total - seeded - acknowledged.length,
    every_acknowledged_write_stored: missing.length === 0 && total >= seeded + acknowledged.length,
  };
}

interface BenchDatabase {
  name: string;
  /** The URL of the new database (the server's URL with its name). */
  url: string;
  pgvector: boolean;
  /** CPU seconds so far of each PostgreSQL backend connected to it, by pid; null if any cannot be read here. */
  backendCpu(): Promise<Map<number, number> | null>;
  drop(): Promise<void>;
}

/** CREATE DATABASE with a name of its own on the server of `serverUrl`; `drop` removes it (ending any connection left). */
async function createDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `pinak_bench_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`cannot connect to ${redactDatabaseUrl(serverUrl)}: ${(error as Error).message}`);
  }
  let pgvector: boolean;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const { rows } = await admin.query<{ available: boolean }>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available");
    pgvector = rows[0]?.available === true;
  } catch (error) {
    throw new Error(`cannot create a database on ${redactDatabaseUrl(serverUrl)}: ${(error as Error).message}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    pgvector,
    async backendCpu() {
      const reader = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
      try {
        await reader.connect();
        const { rows } = await reader.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name]);
        const cpu = new Map<number, number>();
        for (const { pid } of rows) {
          const seconds = cpuSeconds(pid);
          if (seconds === null) return null;
          cpu.set(pid, seconds);
        }
        return cpu;
      } catch {
        return null;
      } finally {
        await reader.end().catch(() => {});
      }
    },
    async drop() {
      const dropper = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
      try {
        await dropper.connect();
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch (error) {
        log(`could not drop the database ${name}: ${(error as Error).message}`);
      } finally {
        await dropper.end().catch(() => {});
      }
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const round1 = (v: number): number => Math.round(v * 10) / 10;
const round2 = (v: number): number => Math.round(v * 100) / 100;
