import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { openKeyStore } from '../auth/key-store.js';
import { ConfigError, httpSessionsIn, jwtOptions, keysFile, keyStoreLocation, rateLimitBurst, workersOf, type Config } from '../config.js';
import { createLogger, type Logger } from '../logging.js';
import { openRuntime, openTenantRuntime } from '../open-runtime.js';
import type { Runtime } from '../runtime.js';
import { checkBindAddress } from '../transports/http/bind-policy.js';
import type { HttpOptions } from '../transports/http/context.js';
import { serveHttp, type HttpService } from '../transports/http/http-server.js';
import { shutdownOnce, type Service } from '../transports/shutdown.js';
import { sharedFileOf } from '../transports/http/shared-file.js';
import { serveStdio } from '../transports/stdio.js';
import { isWorkerProcess, receiveWorkerInit, runPrimary, type WorkerInit } from './workers.js';
import type { Command } from './command.js';
import { SETTING_GROUPS, type SettingGroup, settingsOf } from './setting-groups.js';

/** How long a shutdown waits for tool calls in flight. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Beyond its shutdown delay and grace, how long the primary gives a worker to close its stores and exit before killing it. */
const WORKER_STOP_MARGIN_MS = 10_000;

/**
 * Serve MCP until stdin closes (stdio) or a signal arrives; resolves with the
 * exit code once shut down. Signals are handled from the start: one that
 * arrives while starting shuts down once started.
 */
export async function serve(config: Config, onHttpStarted?: (service: HttpService, logger: Logger) => Promise<void>): Promise<number> {
  // Redis only keeps the HTTP transport's per-key rate limits; stdio has none, so a Redis URL there is a mistake.
  if (config.transport !== 'http' && config.redisUrl !== undefined) {
    throw new ConfigError('--redis-url (PINAK_REDIS_URL) keeps the HTTP per-key rate limits, and stdio has none: leave it out, or serve with --transport http');
  }
  const logger = createLogger(config.logLevel);
  const workers = workersOf(config);
  const worker = workers > 1 && isWorkerProcess() ? await receiveWorkerInit() : null;
  // Refuse a bad address before opening anything (in the primary, once, before any worker starts).
  if (config.transport === 'http' && worker === null) checkBindAddress(config.host, config.auth === 'keys' || jwtOptions(config) !== null || (await keysExist(config)));
  if (workers > 1 && worker === null) {
    return runPrimary({ workers, logger, stopTimeoutMs: config.shutdownDelayMs + SHUTDOWN_GRACE_MS + WORKER_STOP_MARGIN_MS });
  }
  const runtime = await openRuntime(config, worker ? logger.child({ worker: worker.id }) : logger);
  const starting = (config.transport === 'http' ? serveHttp(runtime, httpOptions(config, runtime, worker)) : serveStdio(runtime)).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  const announced = starting.then(async (service) => {
    if (config.transport === 'http' && (worker === null || worker.announce)) await (onHttpStarted ?? announceBrowser)(service as HttpService, logger);
    return service;
  });
  const shutdown = announced.then((service: Service) => shutdownOnce(runtime, service, SHUTDOWN_GRACE_MS));
  shutdown.catch(() => {}); // a failed start is reported once, by the caller
  return new Promise<number>((resolve, reject) => {
    const stop = async (reason: string): Promise<void> => {
      let close: (reason: string) => Promise<void>;
      try {
        close = await shutdown;
      } catch {
        return; // the start failed: reported below
      }
      try {
        await close(reason);
        resolve(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        resolve(1);
      }
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    // A worker whose primary is gone (killed) stops too, rather than serving on unsupervised.
    if (worker) process.once('disconnect', () => void stop('the primary process is gone'));
    starting.then((service) => service.done).then(stop, reject);
  });
}

/**
 * While no key is required, the memory browser signs the local user in by a
 * one-time link: the server's log gives one (loopback HTTP is the local
 * user's anyway then; with keys, the browser signs in with a key).
 */
async function announceBrowser(service: HttpService, logger: Logger): Promise<void> {
  const link = await service.localSignInUrl();
  if (link) logger.info({ url: link }, 'memory browser: open this one-time link to sign in (valid once, for an hour)');
  else logger.info({ url: `${service.origin}/ui/` }, 'memory browser: sign in with an API key');
}

/** Whether any API key was ever created here (without creating the key store). */
async function keysExist(config: Config): Promise<boolean> {
  // keys.db is not created just to look; a database's key table is (with the schema it lives in).
  if (!config.databaseUrl && !existsSync(keysFile(config))) return false;
  const store = await openKeyStore(keyStoreLocation(config));
  try {
    return await store.any();
  } finally {
    await store.close();
  }
}

/**
 * Sessions in the database: PostgreSQL's shared schema with a database URL,
 * else the data directory's shared file. That file also holds what the
 * workers of one server share (rate buckets without PostgreSQL or Redis, the
 * memory browser's sign-ins), sealed with the primary's key; a lone process
 * seals with a key of its own.
 */
function sharedState(config: Config, worker: WorkerInit | null): Pick<HttpOptions, 'sharedSessions' | 'sharedFile' | 'workerId' | 'workerPeers'> {
  const inDatabase = httpSessionsIn(config) === 'database';
  const sharedSessions: HttpOptions['sharedSessions'] = !inDatabase
    ? null
    : config.databaseUrl !== undefined
      ? { url: config.databaseUrl, connectTimeoutMs: config.databaseConnectTimeoutMs, waitForDatabaseMs: config.waitForDatabaseMs }
      : 'file';
  const sharedFile = worker !== null || sharedSessions === 'file' ? { file: sharedFileOf(config.dataDir), busyTimeoutMs: config.busyTimeoutMs, sealKey: worker?.sealKey ?? randomBytes(32) } : null;
  return { sharedSessions, sharedFile, workerId: worker?.id ?? null, workerPeers: worker?.peers ?? null };
}

const httpOptions = (config: Config, runtime: Runtime, worker: WorkerInit | null): HttpOptions => ({
  host: config.host,
  port: config.port,
  allowedHosts: config.allowedHosts,
  allowedOrigins: config.allowedOrigins,
  maxBodyBytes: config.maxBodyBytes,
  maxSessions: config.maxSessions,
  maxSessionsPerKey: config.maxSessionsPerKey,
  maxSessionsPerTenant: config.maxSessionsPerTenant,
  maxConnections: config.maxConnections,
  maxConnectionsPerAddress: config.maxConnectionsPerAddress,
  maxCallsPerSession: config.maxCallsPerSession,
  sessionIdleMs: config.sessionIdleSeconds * 1000,
  ...sharedState(config, worker),
  shutdownDelayMs: config.shutdownDelayMs,
  keys: { ...keyStoreLocation(config), mode: config.auth },
  jwt: jwtOptions(config),
  rateLimit: { perMinute: config.rateLimitPerMinute, burst: rateLimitBurst(config), redisUrl: config.redisUrl },
  dataDir: config.dataDir,
  maxOpenTenants: config.maxOpenTenants,
  replicaName: config.replicaName ?? null,
  openTenant: (tenant, dir) => openTenantRuntime(config, runtime, tenant, dir, runtime.logger.child({ tenant })),
});

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve MCP over stdio (the default), or over HTTP with --transport http',
  usage: 'serve [options]',
  details: 'The command word may be left out: pinak-memory --transport http is pinak-memory serve --transport http.',
  operands: { min: 0, max: 0 },
  options: {},
  settings: settingsOf(...(Object.keys(SETTING_GROUPS) as SettingGroup[])),
  exitsProcess: true,
  run: ({ config }) => serve(config),
};
