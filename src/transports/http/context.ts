import type { Authenticator, AuthMode } from '../../auth/authenticator.js';
import type { JwtSettings } from '../../auth/jwt-verifier.js';
import type { KeyRateLimiter, RateLimiter } from '../../auth/rate-limiter.js';
import type { Runtime } from '../../runtime.js';
import type { TenantRuntimes } from '../../tenants.js';
import type { SessionRegistry } from './sessions.js';
import type { KeyStoreLocation } from '../../auth/key-store.js';
import type { SharedDatabaseSettings } from '../../auth/postgres-key-store.js';
import type { SessionDirectory } from './session-directory.js';
import type { SessionServers } from './session-servers.js';
import type { UiSessionStore } from '../../ui/sessions.js';
import type { WorkerForwarding, WorkerPeers } from './worker-forwarding.js';

/** How the HTTP transport listens and what it allows. */
export interface HttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Host header values accepted besides the loopback names (entries without a port match any port). */
  allowedHosts: readonly string[];
  /** Origins accepted besides the loopback ones. */
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  maxSessions: number;
  /** Most sessions one key or token subject may hold at once. */
  maxSessionsPerKey: number;
  /** Most sessions the keys and tokens of one tenant may hold together. */
  maxSessionsPerTenant: number;
  /** Most open TCP connections (server.maxConnections). */
  maxConnections: number;
  /** Most open TCP connections from one remote address. */
  maxConnectionsPerAddress: number;
  maxCallsPerSession: number;
  sessionIdleMs: number;
  /**
   * Where Streamable HTTP sessions live when every replica or worker must serve them: the shared schema of this
   * PostgreSQL database, or `file`, the data directory's shared file (sharedFile); null: in this process.
   */
  sharedSessions: SharedDatabaseSettings | 'file' | null;
  /**
   * What every process serving this data directory shares, in one SQLite file beside the store (see
   * shared-file.ts): the sessions (with sharedSessions `file`), the per-key buckets when neither PostgreSQL
   * nor Redis keeps them, and the memory browser's sign-ins, sealed with `sealKey`; null: each process alone.
   */
  sharedFile: { file: string; busyTimeoutMs: number; sealKey: Buffer } | null;
  /** The other workers' private ports (with workerId): legacy SSE messages are passed on to the worker holding their stream. */
  workerPeers: WorkerPeers | null;
  /** This process's number among the workers of `--workers N` (also sent as the x-pinak-worker header), or null when it serves alone. */
  workerId: number | null;
  /** On shutdown, how long /readyz answers 503 while everything is still served, before the listener closes. */
  shutdownDelayMs: number;
  /** The API key store and when keys are required (auto: once any key exists). */
  keys: KeyStoreLocation & { mode: AuthMode };
  /** Bearer tokens (JWTs) from an identity provider, accepted besides the keys; null: keys only. */
  jwt: JwtSettings | null;
  /**
   * Requests per minute per key, and how many may come at once; 0 per minute turns the limit off. Counted in
   * Redis when its URL is given, else in PostgreSQL when the keys are there, else in this process.
   */
  rateLimit: { perMinute: number; burst: number; redisUrl?: string | undefined };
  /** The data directory: tenants live under it. */
  dataDir: string;
  /** Beyond this many open tenants, those without a session are closed (least recently used first); 0: no limit. */
  maxOpenTenants: number;
  /**
   * This server's name behind a load balancer (--replica-name), or null. Legacy SSE
   * clients post to an endpoint carrying it, which the proxy routes by.
   */
  replicaName: string | null;
  /** Open a tenant's runtime in its own directory, on its first session. */
  openTenant: (tenant: string, dataDir: string) => Promise<Runtime>;
}

/** What the request handlers share. */
export interface HttpContext {
  /** The local tenant's runtime: the server's own, holding its audit trail. */
  readonly runtime: Runtime;
  readonly tenants: TenantRuntimes;
  readonly auth: Authenticator;
  /** The per-key rate limit, shared between servers when they share PostgreSQL or Redis. */
  readonly limiter: KeyRateLimiter;
  /** Caps how many refused requests per address and minute are audited one by one. */
  readonly refusalAudit: RateLimiter;
  /** Requests without a valid credential allowed per address; beyond, 429 instead of 401, unaudited. */
  readonly unauthenticated: RateLimiter;
  readonly registry: SessionRegistry;
  /** The deployment's Streamable HTTP sessions, when they live in the database (see shared-streamable.ts). */
  readonly directory: SessionDirectory | null;
  /** With the directory: the MCP servers of its sessions kept between their POSTs in this process. */
  readonly servers: SessionServers | null;
  readonly options: HttpOptions;
  /** Passing legacy SSE messages on to the worker holding their stream, when this process is one of several workers. */
  readonly forwarding: WorkerForwarding | null;
  /** The memory browser's sessions (at /ui): in this process, or shared by the workers in the data directory's shared file. */
  readonly ui: UiSessionStore;
  /** True once shutdown has begun: no new sessions. */
  readonly closing: () => boolean;
  /** True while a shutdown waits (--shutdown-delay-ms) for load balancers to notice /readyz: everything is still served. */
  readonly draining: () => boolean;
}
