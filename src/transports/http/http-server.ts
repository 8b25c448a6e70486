import { once } from 'node:events';
import { createServer as createNodeServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator } from '../../auth/authenticator.js';
import { isUnavailable } from '../../domain/database-errors.js';
import { JwtSetupError, JwtVerifier } from '../../auth/jwt-verifier.js';
import { openKeyStore } from '../../auth/key-store.js';
import { openKeyRateLimiter } from '../../auth/open-rate-limiter.js';
import { RateLimiter } from '../../auth/rate-limiter.js';
import { TenantRuntimes } from '../../tenants.js';
import type { Runtime } from '../../runtime.js';
import type { Service } from '../shutdown.js';
import { bareHost, checkBindAddress, HttpStartError, urlHost } from './bind-policy.js';
import { answerClientError } from './client-errors.js';
import { limitConnectionsPerAddress } from './connection-limit.js';
import { watchCredentials, watchSharedCredentials } from './credential-watch.js';
import type { HttpContext, HttpOptions } from './context.js';
import { allowedHostsHint, headerPolicy } from './guards.js';
import { RPC, sendRpcError } from './responses.js';
import { route } from './router.js';
import { SessionRegistry } from './sessions.js';
import { PostgresSessionDirectory, type SessionDirectory } from './session-directory.js';
import { openSharedFile } from './shared-file.js';
import { SqliteSessionDirectory } from './sqlite-session-directory.js';
import { SessionServers } from './session-servers.js';
import { SqliteUiSessions } from '../../ui/sqlite-sessions.js';
import { UiSessions } from '../../ui/sessions.js';
import { localSignInPath } from './ui-endpoint.js';
import { WorkerForwarding } from './worker-forwarding.js';

export interface HttpService extends Service {
  /** Where the server listens, e.g. http://127.0.0.1:7878 (the real port when 0 was asked). */
  readonly origin: string;
  readonly port: number;
  /**
   * The address of a one-time link signing the local user in to the memory
   * browser (at /ui), valid once, for an hour; null when the server requires
   * API keys (then the browser signs in with one).
   */
  localSignInUrl(): Promise<string | null>;
}

/** How long shutdown waits for open responses to finish after the sessions closed. */
const DRAIN_MS = 2000;

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'the address is not available on this machine',
  ENOTFOUND: 'the host name does not resolve',
};

/** Refused requests audited one by one, per address and minute; more are only logged. */
const AUDITED_REFUSALS_PER_MINUTE = 120;

/** Requests without a valid credential per address and minute (bursts of half as many); beyond, 429. */
const UNAUTHENTICATED_PER_MINUTE = 120;

/** How long a client may take to send its request headers, and its whole request; open responses (streams) are not affected. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECTIONS_CHECK_MS = 2_000;

/** The memory browser: a signed-in browser idle this long signs in again; at most this many browser sessions at once. */
const UI_IDLE_MS = 30 * 60_000;
const UI_MAX_SESSIONS = 1000;

/**
 * Serve MCP over HTTP: Streamable HTTP at /mcp, the legacy SSE transport at
 * /sse and /messages, /healthz and /readyz probes, and Prometheus metrics at
 * /metrics, every request but the probes first passing the Host/Origin
 * check, and MCP and metrics requests the API key check and the key's rate
 * limit. Resolves once listening.
 */
export async function serveHttp(runtime: Runtime, options: HttpOptions): Promise<HttpService> {
  const tokens = await openTokenVerifier(options, runtime);
  const keys = await openKeyStore(options.keys);
  const auth = new Authenticator(keys, options.keys.mode, runtime.logger, tokens);
  let keysRequired: boolean;
  try {
    keysRequired = await auth.required();
    checkBindAddress(options.host, keysRequired);
  } catch (error) {
    await auth.close();
    throw error;
  }
  let shared: ReturnType<typeof openSharedFile> | null;
  try {
    shared = options.sharedFile ? openSharedFile(options.sharedFile.file, options.sharedFile.busyTimeoutMs) : null;
  } catch (error) {
    await auth.close();
    throw new HttpStartError(`cannot open the shared state file ${options.sharedFile?.file ?? ''}: ${(error as Error).message}`);
  }
  // Shared by every server on the same PostgreSQL database or Redis, or every process serving this data directory;
  // never fails to open (an absent Redis is waited for in the background).
  const limiter = await openKeyRateLimiter({ ...options.rateLimit, pool: keys.sharedPool, sqlite: shared ?? undefined }, runtime.logger);
  let directory: SessionDirectory | null = null;
  try {
    const limits = { maxSessions: options.maxSessions, maxPerKey: options.maxSessionsPerKey, maxPerTenant: options.maxSessionsPerTenant, idleMs: options.sessionIdleMs };
    if (options.sharedSessions === 'file') {
      if (!shared) throw new Error('sessions in the shared file need the shared file');
      directory = new SqliteSessionDirectory(shared, limits);
    } else if (options.sharedSessions) {
      directory = await PostgresSessionDirectory.open(options.sharedSessions, limits);
    }
  } catch (error) {
    await limiter.close();
    shared?.close();
    await auth.close();
    throw error;
  }
  let closing = false;
  /** Shutting down but still serving: /readyz says 503 so that load balancers move away first. */
  let draining = false;
  let port = options.port;
  const ctx: HttpContext = {
    runtime,
    tenants: new TenantRuntimes(runtime, options.openTenant, options.dataDir, options.maxOpenTenants),
    auth,
    limiter,
    // These two stay per process: they protect this process (its audit trail's growth, its work on requests
    // without a valid credential), and must keep doing so when a shared store is away or slow.
    refusalAudit: new RateLimiter(AUDITED_REFUSALS_PER_MINUTE, AUDITED_REFUSALS_PER_MINUTE),
    unauthenticated: new RateLimiter(UNAUTHENTICATED_PER_MINUTE, UNAUTHENTICATED_PER_MINUTE / 2),
    registry: new SessionRegistry(options.maxSessions, options.sessionIdleMs, runtime.logger, Date.now, options.maxSessionsPerKey, options.maxSessionsPerTenant),
    directory,
    servers: directory ? new SessionServers({ maxCalls: options.maxCallsPerSession, maxKept: options.maxSessions, onSetLevel: (id, level) => directory.setLogLevel(id, level) }) : null,
    options,
    forwarding: options.workerId !== null && options.workerPeers && options.sharedFile ? new WorkerForwarding(options.workerId, options.sharedFile.sealKey, options.workerPeers) : null,
    ui: shared && options.sharedFile ? new SqliteUiSessions(shared, options.sharedFile.sealKey, UI_IDLE_MS, UI_MAX_SESSIONS) : new UiSessions(UI_IDLE_MS, UI_MAX_SESSIONS),
    closing: () => closing,
    draining: () => draining,
  };
  const policy = headerPolicy(options.host, () => port, options.allowedHosts, options.allowedOrigins);
  // Node checks the header and request timeouts on this interval (30 s by default): a slow client is cut within seconds of its limit.
  const workerHeader = options.workerId === null ? null : String(options.workerId);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Which worker answered: for operators and tests (the ids are small numbers, nothing secret).
    if (workerHeader !== null) res.setHeader('x-pinak-worker', workerHeader);
    route(ctx, policy, req, res).catch((error: unknown) => {
      if (isUnavailable(error)) {
        // The database is away (keys, sessions): the client retries; one sampled line, not a stack per request.
        runtime.warnings.warn('database unavailable', { reason: (error as Error).message, path: req.url?.split('?')[0] }, 'database unavailable: HTTP request refused with 503');
        return sendRpcError(res, 503, RPC.serverError, 'Service Unavailable: database unavailable, retry', { 'retry-after': '1' });
      }
      runtime.logger.error({ err: error, method: req.method, path: req.url?.split('?')[0] }, 'HTTP request failed');
      sendRpcError(res, 500, RPC.serverError, 'Internal error: the request could not be handled; see the server log');
    });
  };
  const server = createNodeServer({ connectionsCheckingInterval: CONNECTIONS_CHECK_MS }, handle);
  // Bound how long a client may take to send a request, and how many connections it may hold open.
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.maxConnections = options.maxConnections;
  limitConnectionsPerAddress(server, options.maxConnectionsPerAddress);
  server.on('clientError', answerClientError);

  try {
    server.listen(options.port, bareHost(options.host));
    await once(server, 'listening');
  } catch (error) {
    await ctx.registry.closeAll();
    await ctx.servers?.closeAll();
    await directory?.close();
    await limiter.close();
    shared?.close();
    await auth.close();
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new HttpStartError(`cannot listen on ${urlHost(options.host)}:${options.port}: ${LISTEN_ERRORS[code] ?? (error as Error).message}`);
  }
  server.on('error', (error) => runtime.logger.error({ err: error }, 'HTTP server error'));
  // A worker's own loopback port, not shared with the others: legacy SSE messages for its streams come to it from them.
  const privateServer = ctx.forwarding ? createNodeServer({ connectionsCheckingInterval: CONNECTIONS_CHECK_MS }, handle) : null;
  if (privateServer && ctx.forwarding) {
    privateServer.headersTimeout = HEADERS_TIMEOUT_MS;
    privateServer.requestTimeout = REQUEST_TIMEOUT_MS;
    privateServer.listen({ port: 0, host: '127.0.0.1', exclusive: true });
    await once(privateServer, 'listening');
    privateServer.on('error', (error) => runtime.logger.error({ err: error }, 'worker forwarding server error'));
    ctx.forwarding.announce((privateServer.address() as AddressInfo).port);
  }
  const stopWatching = watchCredentials(ctx.registry, auth, runtime.logger);
  const stopWatchingShared = directory ? watchSharedCredentials(directory, auth, runtime.logger) : () => {};
  const stopKeepingAlive = directory ? keepStreamsAlive(directory, ctx.registry, options.sessionIdleMs, runtime.logger) : () => {};
  port = (server.address() as AddressInfo).port;
  let drained: Promise<boolean> = Promise.resolve(false);
  const origin = `http://${urlHost(options.host)}:${port}`;
  const hint = allowedHostsHint(options.host, port, options.allowedHosts);
  const replica = options.replicaName === null ? {} : { replica: options.replicaName };
  // (A worker's logger already names it.)
  runtime.logger.info(
    { url: `${origin}/mcp`, sse: `${origin}/sse`, host: options.host, port, keysRequired: await auth.required(), sessions: directory ? 'database' : 'memory', ...(directory ? { sessionsIn: directory.where } : {}), ...replica, ...(hint ? { hint } : {}) },
    `serving MCP over HTTP at ${origin}/mcp (legacy SSE at ${origin}/sse)${options.replicaName === null ? '' : ` as replica ${options.replicaName}`}${options.workerId === null ? '' : ` (worker ${options.workerId})`}${hint ? `; ${hint}` : ''}`,
  );

  return {
    origin,
    port,
    async localSignInUrl() {
      const path = await localSignInPath(ctx);
      return path === null ? null : `${origin}${path}`;
    },
    // The HTTP service never ends by itself: only a signal stops it.
    done: new Promise<string>(() => {}),
    async stopAccepting() {
      if (options.shutdownDelayMs > 0) {
        draining = true;
        runtime.logger.info({ delayMs: options.shutdownDelayMs }, 'draining: /readyz answers 503; serving on until the listener closes');
        await new Promise((resolve) => setTimeout(resolve, options.shutdownDelayMs));
      }
      closing = true;
      drained = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
      server.closeIdleConnections();
      // The private port stays open until the sessions close: other workers may still pass messages on to this one's streams.
    },
    async closeSessions() {
      stopWatching();
      stopWatchingShared();
      stopKeepingAlive();
      await ctx.registry.closeAll();
      await ctx.servers?.closeAll();
      // Closed sessions end their streams; give those responses a moment to finish, then cut what is left.
      const late = new Promise<boolean>((resolve) => setTimeout(resolve, DRAIN_MS, false).unref());
      if (!(await Promise.race([drained, late]))) server.closeAllConnections();
      privateServer?.close();
      privateServer?.closeAllConnections();
      // The tenants' stores close here; the local one is the runtime's, closed by the shutdown sequence.
      await ctx.tenants.close();
      // The shared sessions stay in the database: other replicas serve them on.
      await directory?.close();
      await limiter.close();
      shared?.close();
      await auth.close();
    },
  };
}

/**
 * Mark this replica's open legacy SSE streams active in the shared directory,
 * a few times per idle period: they count against the deployment's session
 * limits while open, and a replica that dies stops marking them, so they
 * expire there after the idle time.
 */
function keepStreamsAlive(directory: SessionDirectory, registry: SessionRegistry, idleMs: number, logger: Runtime['logger']): () => void {
  const timer = setInterval(() => {
    directory.keepAlive(registry.idsOf('sse')).catch((error: unknown) => logger.warn({ reason: (error as Error).message }, 'could not mark the open SSE streams active'));
  }, Math.max(1000, Math.min(60_000, Math.floor(idleMs / 3))));
  timer.unref();
  return () => clearInterval(timer);
}

/** The checker of identity-provider tokens, when configured; an unusable JWKS stops the start with one line. */
async function openTokenVerifier(options: HttpOptions, runtime: Runtime): Promise<JwtVerifier | null> {
  if (!options.jwt) return null;
  try {
    const verifier = await JwtVerifier.open(options.jwt, runtime.logger);
    const jwks = 'file' in options.jwt.jwks ? { jwksFile: options.jwt.jwks.file } : { jwksUrl: options.jwt.jwks.url };
    runtime.logger.info({ issuer: options.jwt.issuer, audience: options.jwt.audience, ...jwks, claims: options.jwt.claims }, 'accepting bearer tokens from an identity provider');
    return verifier;
  } catch (error) {
    if (error instanceof JwtSetupError) throw new HttpStartError(error.message);
    throw error;
  }
}
