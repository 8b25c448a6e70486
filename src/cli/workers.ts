import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../logging.js';
import type { WorkerPeers } from '../transports/http/worker-forwarding.js';

/** What the primary tells each worker before it starts serving. */
export interface WorkerInit {
  /** The worker's number (1, 2, …; a replacement gets the next unused one), in its logs and its x-pinak-worker header. */
  readonly id: number;
  /** The key sealing the memory browser's sessions in the shared file, the same for every worker of this start. */
  readonly sealKey: Buffer;
  /** Whether this worker logs the memory browser's one-time sign-in link (the first one only). */
  readonly announce: boolean;
  /** The other workers' private ports, kept current by the primary. */
  readonly peers: WorkerPeers;
}

interface InitMessage {
  pinak: 'init';
  id: number;
  sealKey: string;
  announce: boolean;
}

const isInit = (message: unknown): message is InitMessage => (message as { pinak?: unknown } | null)?.pinak === 'init';

/** True in a serving process started by the primary of `--workers N`. */
export const isWorkerProcess = (): boolean => cluster.isWorker;

/** In a worker: ask the primary for this worker's number and the shared sealing key. */
export function receiveWorkerInit(): Promise<WorkerInit> {
  return new Promise((resolve) => {
    let ports = new Map<number, number>();
    const peers: WorkerPeers = {
      announce: (port) => void process.send?.({ pinak: 'port', port }),
      portOf: (id) => ports.get(id),
    };
    // The primary sends the map of ports whenever a worker starts or stops.
    process.on('message', (message: unknown) => {
      const m = message as { pinak?: unknown; ports?: unknown } | null;
      if (m?.pinak === 'ports' && Array.isArray(m.ports)) ports = new Map(m.ports as Array<[number, number]>);
    });
    const onMessage = (message: unknown): void => {
      if (!isInit(message)) return;
      process.off('message', onMessage);
      resolve({ id: message.id, sealKey: Buffer.from(message.sealKey, 'base64'), announce: message.announce, peers });
    };
    process.on('message', onMessage);
    process.send?.({ pinak: 'init?' });
  });
}

/** A worker that dies this many times within RESTART_WINDOW_MS after starting stops the server: something is wrong beyond one crash. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export interface PrimaryOptions {
  workers: number;
  /** How long a worker may take to stop after SIGTERM (its shutdown delay and grace) before it is killed. */
  stopTimeoutMs: number;
  logger: Logger;
}

/**
 * The primary of `--workers N`: forks N serving processes running this same
 * command (node's cluster module: the primary holds the listening socket and
 * hands connections to the workers in turn), the first alone (it creates or
 * upgrades the data directory's files), then the others together. It serves
 * nothing itself and opens no store.
 *
 * - A worker that exits before it listens (a port taken, a store it cannot
 *   open) stops the whole server with exit code 1: its own one-line message
 *   is on stderr (the primary adds one only if it died otherwise); no
 *   restart loop.
 * - A worker that dies while serving is replaced (logged); more than
 *   MAX_RESTARTS deaths in a minute stop the server.
 * - SIGTERM or SIGINT: every worker gets SIGTERM and drains as one server
 *   would (--shutdown-delay-ms, calls in flight); resolves with 0 once all
 *   have exited (1 if one failed or had to be killed).
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { logger } = options;
  const sealKey = randomBytes(32).toString('base64');
  const live = new Set<Worker>();
  const listening = new Set<Worker>();
  const deaths: number[] = [];
  let nextId = 1;
  let stopping = false;
  let failed = false;
  let killTimer: NodeJS.Timeout | undefined;

  return new Promise<number>((resolve) => {
    const finishIfDone = (): void => {
      if (!stopping || live.size > 0) return;
      if (killTimer) clearTimeout(killTimer);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(failed ? 1 : 0);
    };

    const stopAll = (reason: string, asFailure: boolean): void => {
      if (asFailure) failed = true;
      if (stopping) return;
      stopping = true;
      // A start that failed was said by the worker; a signal or repeated deaths are worth a line.
      if (live.size > 0) logger.info({ reason, workers: live.size }, 'stopping every worker');
      for (const worker of live) worker.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const worker of live) {
          logger.error({ worker: workerIdOf(worker) }, 'a worker did not stop in time: killed');
          failed = true;
          worker.process.kill('SIGKILL');
        }
      }, options.stopTimeoutMs);
      killTimer.unref();
      finishIfDone();
    };

    const onSignal = (signal: NodeJS.Signals): void => stopAll(signal, false);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    const ids = new Map<Worker, number>();
    /** Each serving worker's private port, for passing legacy SSE messages on to the worker holding their stream. */
    const ports = new Map<number, number>();
    const sharePorts = (): void => {
      const message = { pinak: 'ports', ports: [...ports] };
      for (const worker of live) if (worker.isConnected()) worker.send(message);
    };
    const workerIdOf = (worker: Worker): number => ids.get(worker) ?? 0;

    const fork = (announce: boolean): Promise<boolean> => {
      const id = nextId++;
      const worker = cluster.fork();
      ids.set(worker, id);
      live.add(worker);
      worker.on('message', (message: unknown) => {
        const m = message as { pinak?: unknown; port?: unknown } | null;
        if (m?.pinak === 'init?') worker.send({ pinak: 'init', id, sealKey, announce } satisfies InitMessage);
        if (m?.pinak === 'port' && typeof m.port === 'number') {
          ports.set(id, m.port);
          sharePorts();
        }
      });
      return new Promise<boolean>((started) => {
        worker.once('listening', () => {
          listening.add(worker);
          started(true);
        });
        worker.once('exit', (code, signal) => {
          live.delete(worker);
          if (ports.delete(id)) sharePorts();
          const wasServing = listening.delete(worker);
          if (!wasServing) started(false);
          if (stopping) {
            if (code !== 0 && signal !== 'SIGTERM') failed = true;
            return finishIfDone();
          }
          if (!wasServing) {
            // Exit code 1: the worker said why on stderr, in one line (a port taken, a bad JWKS file…); nothing to add to it.
            if (code !== 1) logger.error({ worker: id, code, signal }, `worker ${id} could not start (${signal ?? `code ${code}`}): stopping the server`);
            return stopAll(`worker ${id} could not start`, true);
          }
          const now = Date.now();
          deaths.push(now);
          while (deaths.length > 0 && deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
          if (deaths.length > MAX_RESTARTS) {
            logger.error({ worker: id, code, signal, deaths: deaths.length }, `workers died ${deaths.length} times within a minute: stopping the server`);
            return stopAll('workers keep dying', true);
          }
          const replacement = nextId;
          logger.warn({ worker: id, code, signal, replacement }, `worker ${id} exited (${signal ?? `code ${code}`}): starting worker ${replacement} in its place`);
          void fork(false).then((ok) => {
            if (ok) logger.info({ worker: replacement }, `worker ${replacement} serving in place of worker ${id}`);
          });
        });
      });
    };

    void (async () => {
      // The first worker alone: it creates or migrates the data directory's files before the others open them.
      if (!(await fork(true)) || stopping) return;
      const rest = await Promise.all(Array.from({ length: options.workers - 1 }, () => fork(false)));
      if (stopping || rest.includes(false)) return;
      logger.info({ workers: options.workers }, `serving with ${options.workers} worker processes on one port`);
    })();
  });
}
