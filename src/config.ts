import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { isPostgresUrl, isRedisUrl, redactDatabaseUrl } from './domain/database-url.js';
import { Namespace } from './domain/fields.js';

export { redactDatabaseUrl } from './domain/database-url.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const intFromText = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max);
const numberFromText = (min: number, max: number) => z.coerce.number().min(min).max(max);
const boolFromText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A host name, an IPv4 address, or an IPv6 address (brackets optional). */
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[?[0-9A-Fa-f:.]{2,45}\]?)$/;
/** What an HTTP Host header may hold: a host name or address, with an optional port. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
/** A comma-separated list whose entries each pass `entry`. */
const listFromText = (entry: z.ZodType<string, string>) =>
  z.string().transform((text) => text.split(',').map((part) => part.trim()).filter((part) => part !== '')).pipe(z.array(entry));
/** An origin as browsers send it: scheme, host and optional port, nothing else. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text.toLowerCase();
  } catch {
    return false;
  }
}

/** Where embeddings may come from: this process (the bundled or a transformers.js model) or a service over HTTP. */
export const EMBED_PROVIDERS = ['local', 'openai', 'ollama', 'tei'] as const;

/** An embedding service's base URL: http or https, a host, no fragment. */
function isServiceUrl(text: string): boolean {
  if (/\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.hash === '';
  } catch {
    return false;
  }
}

/** Where an identity provider's keys may be fetched: https, or http on this machine only. */
function isJwksUrl(text: string): boolean {
  try {
    const url = new URL(text);
    const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
    return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
  } catch {
    return false;
  }
}
const ClaimName = z.string().min(1).max(200);
/** A replica's name: what a proxy routes by, so a word safe in a URL query and a proxy's configuration. */
const REPLICA_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Every setting, its default and its bounds: the one place configuration is defined. */
export const Config = z.strictObject({
  dataDir: z.string().min(1),
  namespace: Namespace.default('default'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  maxContentBytes: intFromText(1, 1024 * 1024).default(32 * 1024),
  maxMetadataBytes: intFromText(2, 256 * 1024).default(16 * 1024),
  busyTimeoutMs: intFromText(0, 600_000).default(5000),
  maxDatabaseBytes: intFromText(1024 * 1024, Number.MAX_SAFE_INTEGER).optional(),
  auditReserveBytes: intFromText(0, Number.MAX_SAFE_INTEGER).optional(),
  cacheMb: intFromText(1, 65_536).default(64),
  transport: z.enum(['stdio', 'http']).default('stdio'),
  host: z.string().regex(HOST, 'expected a host name or an IP address').default('127.0.0.1'),
  port: intFromText(0, 65535).default(7878),
  allowedHosts: listFromText(z.string().regex(HOST_HEADER, 'expected host or host:port entries, comma separated')).default([]),
  allowedOrigins: listFromText(z.string().refine(isOrigin, 'expected origins such as https://app.example.com, comma separated')).default([]),
  maxBodyBytes: intFromText(1024, 64 * 1024 * 1024).default(1024 * 1024),
  maxSessions: intFromText(1, 10_000).default(100),
  maxSessionsPerKey: intFromText(1, 10_000).default(20),
  maxSessionsPerTenant: intFromText(1, 10_000).default(50),
  maxConnections: intFromText(1, 1_000_000).default(1000),
  maxConnectionsPerAddress: intFromText(1, 1_000_000).default(256),
  maxCallsPerSession: intFromText(1, 1000).default(8),
  sessionIdleSeconds: intFromText(1, 7 * 86_400).default(1800),
  httpSessions: z.enum(['memory', 'database'], { message: 'expected memory (this process holds its sessions) or database (any replica serves any session)' }).optional(),
  shutdownDelayMs: intFromText(0, 600_000).default(0),
  auth: z.enum(['auto', 'keys'], { message: 'expected auto (keys required once one exists) or keys (always required)' }).default('auto'),
  rateLimitPerMinute: intFromText(0, 1_000_000).default(600),
  rateLimitBurst: intFromText(1, 1_000_000).optional(),
  redisUrl: z.string().refine(isRedisUrl, 'expected a redis:// or rediss:// URL with a host (redis://user:password@host:6379/0)').optional(),
  maxOpenTenants: intFromText(0, 100_000).default(0),
  jwtIssuer: z.string().min(1).max(2048).optional(),
  jwtAudience: z.string().min(1).max(2048).optional(),
  jwtJwksFile: z.string().min(1).optional(),
  jwtJwksUrl: z.string().refine(isJwksUrl, 'expected an https:// URL (http:// only on a loopback host)').optional(),
  jwtTenantClaim: ClaimName.default('tenant'),
  jwtRoleClaim: ClaimName.default('role'),
  jwtNamespacesClaim: ClaimName.optional(),
  jwtAllowLocalTenant: boolFromText.default(false),
  embedModel: z.string().min(1).max(500).default('bundled'),
  modelDir: z.string().min(1).optional(),
  modelCacheDir: z.string().min(1).optional(),
  allowRemoteModels: boolFromText.default(false),
  embedDtype: z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16']).default('fp32'),
  embedWorkers: intFromText(1, 16).default(1),
  embedBatch: intFromText(1, 512).default(32),
  embedProvider: z.enum(EMBED_PROVIDERS, { message: `expected one of ${EMBED_PROVIDERS.join(', ')}` }).default('local'),
  embedUrl: z.string().max(2048).refine(isServiceUrl, 'expected an http:// or https:// URL with a host, such as http://127.0.0.1:11434').optional(),
  embedApiKey: z.string().min(1).max(4096).refine((key) => !/[\u0000-\u001f\u007f]/.test(key), 'the key holds control characters (a line break?)').optional(),
  embedTimeoutMs: intFromText(100, 600_000).default(10_000),
  embedDimensions: intFromText(1, 65_536).optional(),
  hnswM: intFromText(4, 64).default(16),
  hnswEfConstruction: intFromText(10, 1000).default(100),
  hnswEfSearch: intFromText(10, 2000).default(200),
  snapshotEveryChanges: intFromText(1, 10_000_000).default(2000),
  snapshotIntervalMs: intFromText(100, 86_400_000).default(30_000),
  exactScanLimit: intFromText(0, 10_000_000).default(20_000),
  fusionKeywordWeight: numberFromText(0, 100).optional(),
  fusionVectorWeight: numberFromText(0, 100).optional(),
  fusionRrfK: numberFromText(1, 10_000).optional(),
  contextShare: numberFromText(0, 10).default(0),
  contextDecay: numberFromText(0, 1).default(0.5),
  contextRadius: intFromText(0, 10).default(2),
  contextWindow: numberFromText(0, 100).default(3),
  contextReply: numberFromText(0, 100).default(1),
  softAndWeight: numberFromText(0, 100).default(2),
  speakerBoost: numberFromText(0, 100).default(0.1),
  databaseUrl: z.string().refine(isPostgresUrl, 'expected a postgres:// or postgresql:// URL').optional(),
  databasePoolSize: intFromText(1, 1000).default(10),
  databaseConnectTimeoutMs: intFromText(1, 600_000).default(5000),
  databaseStatementTimeoutMs: intFromText(0, 86_400_000).default(30_000),
  databaseIdleInTransactionTimeoutMs: intFromText(0, 86_400_000).default(60_000),
  waitForDatabaseMs: intFromText(0, 86_400_000).default(0),
  replicaName: z.string().regex(REPLICA_NAME, 'expected a short name of lowercase letters, digits and hyphens, such as pinak1 (at most 32 characters, starting with a letter or digit)').optional(),
});
export type Config = z.infer<typeof Config>;

/** How each setting is spelled on the command line and in the environment. */
export const SETTINGS = [
  { key: 'dataDir', flag: 'data-dir', env: 'PINAK_DATA_DIR', help: 'where the database lives (default: $XDG_DATA_HOME/pinak-memory or ~/.local/share/pinak-memory)' },
  { key: 'namespace', flag: 'namespace', env: 'PINAK_NAMESPACE', help: 'default namespace for calls that name none (default: default)' },
  { key: 'logLevel', flag: 'log-level', env: 'PINAK_LOG_LEVEL', help: `log level on stderr: ${LOG_LEVELS.join(', ')} (default: info)` },
  { key: 'maxContentBytes', flag: 'max-content-bytes', env: 'PINAK_MAX_CONTENT_BYTES', help: 'largest memory content in UTF-8 bytes (default: 32768)' },
  { key: 'maxMetadataBytes', flag: 'max-metadata-bytes', env: 'PINAK_MAX_METADATA_BYTES', help: 'largest metadata object as JSON bytes (default: 16384)' },
  { key: 'busyTimeoutMs', flag: 'busy-timeout-ms', env: 'PINAK_BUSY_TIMEOUT_MS', help: 'how long to wait for another process holding the database lock (default: 5000)' },
  { key: 'cacheMb', flag: 'cache-mb', env: 'PINAK_CACHE_MB', help: 'SQLite page cache per open database, in MB (default: 256; pages are cached only as read)' },
  { key: 'maxDatabaseBytes', flag: 'max-database-bytes', env: 'PINAK_MAX_DATABASE_BYTES', help: 'refuse writes once the database file reaches this size (default: no limit but the disk)' },
  { key: 'auditReserveBytes', flag: 'audit-reserve-bytes', env: 'PINAK_AUDIT_RESERVE_BYTES', help: 'of --max-database-bytes, what only the audit trail may use, so reads go on being recorded (and answered) once records are full (default: 5 %, at least 256 KiB, at most half)' },
  { key: 'transport', flag: 'transport', env: 'PINAK_TRANSPORT', help: 'how clients connect: stdio (default) or http (Streamable HTTP at /mcp, legacy SSE at /sse)' },
  { key: 'host', flag: 'host', env: 'PINAK_HOST', help: 'HTTP: address to listen on; other than loopback only when API keys are required (default: 127.0.0.1)' },
  { key: 'port', flag: 'port', env: 'PINAK_PORT', help: 'HTTP: port to listen on; 0 picks a free one (default: 7878)' },
  { key: 'allowedHosts', flag: 'allowed-hosts', env: 'PINAK_ALLOWED_HOSTS', help: 'HTTP: more Host header values to accept, comma separated, port optional (default: loopback names with the port)' },
  { key: 'allowedOrigins', flag: 'allowed-origins', env: 'PINAK_ALLOWED_ORIGINS', help: 'HTTP: more browser origins to accept, comma separated (default: loopback origins with the port)' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'PINAK_MAX_BODY_BYTES', help: 'HTTP: largest request body; larger gets 413 (default: 1048576)' },
  { key: 'maxSessions', flag: 'max-sessions', env: 'PINAK_MAX_SESSIONS', help: 'HTTP: most open sessions; more gets 503 (default: 100)' },
  { key: 'maxSessionsPerKey', flag: 'max-sessions-per-key', env: 'PINAK_MAX_SESSIONS_PER_KEY', help: 'HTTP: most open sessions of one key or token subject; more gets 429 (default: 20)' },
  { key: 'maxSessionsPerTenant', flag: 'max-sessions-per-tenant', env: 'PINAK_MAX_SESSIONS_PER_TENANT', help: 'HTTP: most open sessions of the keys and tokens of one tenant together; more gets 429 (default: 50)' },
  { key: 'maxConnections', flag: 'max-connections', env: 'PINAK_MAX_CONNECTIONS', help: 'HTTP: most open TCP connections; more are closed at once (default: 1000)' },
  { key: 'maxConnectionsPerAddress', flag: 'max-connections-per-address', env: 'PINAK_MAX_CONNECTIONS_PER_ADDRESS', help: 'HTTP: most open TCP connections from one remote address; more are closed at once (default: 256; behind a proxy, every client has its address)' },
  { key: 'maxCallsPerSession', flag: 'max-calls-per-session', env: 'PINAK_MAX_CALLS_PER_SESSION', help: 'HTTP: most requests in flight per session; more get a JSON-RPC error (default: 8)' },
  { key: 'httpSessions', flag: 'http-sessions', env: 'PINAK_HTTP_SESSIONS', help: 'HTTP: where Streamable HTTP sessions live: memory (this process: GET streams, cancellation) or database (the PostgreSQL database: any replica serves any request of any session) (default: database with --database-url, else memory)' },
  { key: 'shutdownDelayMs', flag: 'shutdown-delay-ms', env: 'PINAK_SHUTDOWN_DELAY_MS', help: 'HTTP: on SIGTERM, answer /readyz with 503 and go on serving this long before closing the listener, so a load balancer stops sending requests first (default: 0)' },
  { key: 'sessionIdleSeconds', flag: 'session-idle-seconds', env: 'PINAK_SESSION_IDLE_SECONDS', help: 'HTTP: close sessions idle this long (default: 1800)' },
  { key: 'auth', flag: 'auth', env: 'PINAK_AUTH', help: 'HTTP: when API keys are required: auto (once any key exists, the default) or keys (always)' },
  { key: 'rateLimitPerMinute', flag: 'rate-limit-per-minute', env: 'PINAK_RATE_LIMIT_PER_MINUTE', help: 'HTTP: requests per minute per API key; 0 turns the limit off (default: 600)' },
  { key: 'rateLimitBurst', flag: 'rate-limit-burst', env: 'PINAK_RATE_LIMIT_BURST', help: 'HTTP: requests a key may send at once before the per-minute rate applies (default: a tenth of it, at least 1)' },
  { key: 'redisUrl', flag: 'redis-url', env: 'PINAK_REDIS_URL', help: 'HTTP: count each key\'s requests in this Redis (redis://user:password@host:6379/0, or rediss:// for TLS), shared by every server using it; while it is away, in PostgreSQL or each server\'s memory; PINAK_REDIS_URL_FILE keeps its password off the command line (default: in PostgreSQL with --database-url, else in each server\'s memory)' },
  { key: 'maxOpenTenants', flag: 'max-open-tenants', env: 'PINAK_MAX_OPEN_TENANTS', help: 'HTTP: beyond this many open tenants, close those without a session, least recently used first; 0: no limit (default: 0)' },
  { key: 'jwtIssuer', flag: 'jwt-issuer', env: 'PINAK_JWT_ISSUER', help: 'HTTP: accept bearer tokens (JWTs) from this issuer (iss), besides API keys; needs --jwt-audience and a JWKS' },
  { key: 'jwtAudience', flag: 'jwt-audience', env: 'PINAK_JWT_AUDIENCE', help: 'HTTP: the audience (aud) tokens must be meant for' },
  { key: 'jwtJwksFile', flag: 'jwt-jwks-file', env: 'PINAK_JWT_JWKS_FILE', help: 'HTTP: the issuer\'s public keys as a JWKS file, read at start' },
  { key: 'jwtJwksUrl', flag: 'jwt-jwks-url', env: 'PINAK_JWT_JWKS_URL', help: 'HTTP: …or the URL of its JWKS (https), fetched and cached' },
  { key: 'jwtTenantClaim', flag: 'jwt-tenant-claim', env: 'PINAK_JWT_TENANT_CLAIM', help: 'HTTP: the claim naming a token\'s tenant (default: tenant)' },
  { key: 'jwtRoleClaim', flag: 'jwt-role-claim', env: 'PINAK_JWT_ROLE_CLAIM', help: 'HTTP: the claim naming its role, reader, writer or admin, or a list of roles (default: role)' },
  { key: 'jwtNamespacesClaim', flag: 'jwt-namespaces-claim', env: 'PINAK_JWT_NAMESPACES_CLAIM', help: 'HTTP: a claim every token must carry listing its namespaces, or "*" (default: none, every namespace)' },
  { key: 'jwtAllowLocalTenant', flag: 'jwt-allow-local-tenant', env: 'PINAK_JWT_ALLOW_LOCAL_TENANT', help: 'HTTP: let tokens name the tenant local, the data directory itself (with an admin role, /metrics too) (default: false)' },
  { key: 'embedModel', flag: 'embed-model', env: 'PINAK_EMBED_MODEL', help: 'embedding model: "bundled" (default, offline), "none", a Hugging Face id such as Xenova/all-MiniLM-L6-v2, or a local model directory; with --embed-provider openai, ollama or tei, the service\'s model name (tei: optional, a label)' },
  { key: 'modelDir', flag: 'model-dir', env: 'PINAK_MODEL_DIR', help: 'directory holding local models, looked up by model id before any download' },
  { key: 'modelCacheDir', flag: 'model-cache-dir', env: 'PINAK_MODEL_CACHE_DIR', help: 'where downloaded models are cached' },
  { key: 'allowRemoteModels', flag: 'allow-remote-models', env: 'PINAK_ALLOW_REMOTE_MODELS', help: 'allow downloading models from the Hugging Face hub (default: false)' },
  { key: 'embedDtype', flag: 'embed-dtype', env: 'PINAK_EMBED_DTYPE', help: 'which ONNX weights to load: fp32 (default), fp16, q8, int8, uint8, q4, bnb4, q4f16' },
  { key: 'embedWorkers', flag: 'embed-workers', env: 'PINAK_EMBED_WORKERS', help: 'embedding worker threads (default: 1)' },
  { key: 'embedBatch', flag: 'embed-batch', env: 'PINAK_EMBED_BATCH', help: 'most texts per model call, or per request to an embedding service (default: 32)' },
  { key: 'embedProvider', flag: 'embed-provider', env: 'PINAK_EMBED_PROVIDER', help: 'where embeddings come from: local (default: --embed-model in this process), or an embedding service at --embed-url speaking the API of openai (also vLLM, LM Studio, llama.cpp), ollama or tei (Hugging Face text-embeddings-inference)' },
  { key: 'embedUrl', flag: 'embed-url', env: 'PINAK_EMBED_URL', help: 'the embedding service\'s base URL (http:// or https://), such as http://127.0.0.1:11434 for Ollama; never logged with its password' },
  { key: 'embedApiKey', flag: 'embed-api-key', env: 'PINAK_EMBED_API_KEY', help: 'the embedding service\'s API key, sent as a bearer token; PINAK_EMBED_API_KEY_FILE keeps it off the command line; never logged (default: none)' },
  { key: 'embedTimeoutMs', flag: 'embed-timeout-ms', env: 'PINAK_EMBED_TIMEOUT_MS', help: 'give up on one request to the embedding service after this long (it is retried on timeouts, 408, 429 and 5xx) (default: 10000)' },
  { key: 'embedDimensions', flag: 'embed-dimensions', env: 'PINAK_EMBED_DIMENSIONS', help: 'openai: ask the service for vectors of this many dimensions (the API\'s dimensions parameter; text-embedding-3 models) (default: the model\'s own)' },
  { key: 'hnswM', flag: 'hnsw-m', env: 'PINAK_HNSW_M', help: 'HNSW graph degree M (default: 16)' },
  { key: 'hnswEfConstruction', flag: 'hnsw-ef-construction', env: 'PINAK_HNSW_EF_CONSTRUCTION', help: 'HNSW build effort (default: 100)' },
  { key: 'hnswEfSearch', flag: 'hnsw-ef-search', env: 'PINAK_HNSW_EF_SEARCH', help: 'HNSW search effort (default: 200; grows with the logarithm of the index above 100,000 vectors, 500 at a million)' },
  { key: 'snapshotEveryChanges', flag: 'snapshot-every-changes', env: 'PINAK_SNAPSHOT_EVERY_CHANGES', help: 'write the vector snapshot after this many changes (default: 2000; times size/100,000 above 100,000 vectors)' },
  { key: 'snapshotIntervalMs', flag: 'snapshot-interval-ms', env: 'PINAK_SNAPSHOT_INTERVAL_MS', help: '…or this long after the first unsaved change (default: 30000; scaled the same way)' },
  { key: 'exactScanLimit', flag: 'exact-scan-limit', env: 'PINAK_EXACT_SCAN_LIMIT', help: 'filters admitting at most this many records use an exact vector scan (default: 20000)' },
  { key: 'fusionKeywordWeight', flag: 'fusion-keyword-weight', env: 'PINAK_FUSION_KEYWORD_WEIGHT', help: 'hybrid search: weight of the keyword ranking (default: tuned per model)' },
  { key: 'fusionVectorWeight', flag: 'fusion-vector-weight', env: 'PINAK_FUSION_VECTOR_WEIGHT', help: 'hybrid search: weight of the vector ranking (default: tuned per model)' },
  { key: 'contextShare', flag: 'context-share', env: 'PINAK_CONTEXT_SHARE', help: 'share of a keyword hit\'s score given to its thread neighbours, an alternative to windows; 0 turns it off (default: 0)' },
  { key: 'contextDecay', flag: 'context-decay', env: 'PINAK_CONTEXT_DECAY', help: 'how that share shrinks per step away in the thread (default: 0.5)' },
  { key: 'contextRadius', flag: 'context-radius', env: 'PINAK_CONTEXT_RADIUS', help: 'how many neighbours on each side receive it (default: 2)' },
  { key: 'contextWindow', flag: 'context-window', env: 'PINAK_CONTEXT_WINDOW', help: 'weight of the best matching thread window (a memory with its neighbours) in a memory\'s score; 0 turns it off (default: 3)' },
  { key: 'contextReply', flag: 'context-reply', env: 'PINAK_CONTEXT_REPLY', help: 'share of a matching question\'s own score given to the thread memory after it, its likely answer; 0 turns it off (default: 1)' },
  { key: 'speakerBoost', flag: 'speaker-boost', env: 'PINAK_SPEAKER_BOOST', help: 'keyword hits whose metadata speaker (or author) is named in the query score (1 + this); 0 turns it off (default: 0.1)' },
  { key: 'softAndWeight', flag: 'soft-and-weight', env: 'PINAK_SOFT_AND_WEIGHT', help: 'reward keyword hits containing more of the query words; 0 turns it off (default: 2)' },
  { key: 'fusionRrfK', flag: 'fusion-rrf-k', env: 'PINAK_FUSION_RRF_K', help: 'hybrid search: the reciprocal rank fusion constant k (default: 60)' },
  { key: 'databaseUrl', flag: 'database-url', env: 'PINAK_DATABASE_URL', help: 'keep the memories in this PostgreSQL database (postgres://user@host:port/db) instead of SQLite files; PINAK_DATABASE_URL_FILE keeps its password off the command line (default: SQLite in the data directory)' },
  { key: 'databasePoolSize', flag: 'database-pool-size', env: 'PINAK_DATABASE_POOL_SIZE', help: 'PostgreSQL: most open connections (default: 10)' },
  { key: 'databaseConnectTimeoutMs', flag: 'database-connect-timeout-ms', env: 'PINAK_DATABASE_CONNECT_TIMEOUT_MS', help: 'PostgreSQL: give up on a connection attempt after this long (default: 5000)' },
  { key: 'databaseStatementTimeoutMs', flag: 'database-statement-timeout-ms', env: 'PINAK_DATABASE_STATEMENT_TIMEOUT_MS', help: 'PostgreSQL: cancel a statement running this long; 0 turns it off (default: 30000)' },
  { key: 'databaseIdleInTransactionTimeoutMs', flag: 'database-idle-in-transaction-timeout-ms', env: 'PINAK_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', help: 'PostgreSQL: end a session idle this long inside a transaction; 0 turns it off (default: 60000)' },
  { key: 'waitForDatabaseMs', flag: 'wait-for-database-ms', env: 'PINAK_WAIT_FOR_DATABASE_MS', help: 'PostgreSQL: at start, keep trying to reach the database this long; 0 fails at once (default: 0)' },
  { key: 'replicaName', flag: 'replica-name', env: 'PINAK_REPLICA_NAME', help: 'HTTP: this server\'s name behind a load balancer (e.g. pinak2): legacy SSE clients are told to post to /messages?replica=NAME&sessionId=…, so the proxy can route their messages to the server holding their stream; also in the startup line and /readyz (default: none)' },
] as const satisfies ReadonlyArray<{ key: keyof Config; flag: string; env: string; help: string }>;

/**
 * The variable naming a file that holds a setting's value (`PINAK_<NAME>_FILE`,
 * as Docker and Kubernetes mount secrets), or undefined for a setting that is
 * itself a file path.
 */
export const fileVariableOf = (env: string): string | undefined => (env.endsWith('_FILE') ? undefined : `${env}_FILE`);

/** Every environment variable the configuration reads: each setting's, and its file twin. */
export const ENVIRONMENT_VARIABLES: readonly string[] = SETTINGS.flatMap((setting) => {
  const file = fileVariableOf(setting.env);
  return file === undefined ? [setting.env] : [setting.env, file];
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The per-user data directory of the XDG base directory spec. */
export function defaultDataDir(env: Readonly<Record<string, string | undefined>>, home = homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share');
  return join(base, 'pinak-memory');
}

/**
 * Resolve the configuration: defaults, then `PINAK_*` environment variables,
 * then command-line flags. Throws a ConfigError whose message is one line
 * naming the bad setting and where it came from.
 */
export function resolveConfig(
  flags: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const raw: Record<string, string> = { dataDir: defaultDataDir(env) };
  const origin: Record<string, string> = { dataDir: 'default' };
  /** Settings read from files: their values may be secrets, and are never echoed. */
  const fromFiles = new Set<string>();
  for (const setting of SETTINGS) {
    const fromEnv = env[setting.env];
    // A setting that is itself a file path has no _FILE twin.
    const fileVariable = fileVariableOf(setting.env) ?? '';
    const file = fileVariable === '' ? undefined : env[fileVariable];
    if (fromEnv !== undefined && fromEnv !== '') {
      if (file !== undefined && file !== '') throw new ConfigError(`set ${setting.env} or ${fileVariable}, not both`);
      raw[setting.key] = fromEnv;
      origin[setting.key] = `environment variable ${setting.env}`;
    } else if (file !== undefined && file !== '') {
      raw[setting.key] = readSettingFile(file, fileVariable);
      origin[setting.key] = `value from the file named by ${fileVariable}`;
      fromFiles.add(setting.key);
    }
    const fromFlag = flags[setting.flag];
    if (fromFlag !== undefined) {
      raw[setting.key] = fromFlag;
      origin[setting.key] = `flag --${setting.flag}`;
    }
  }
  const parsed = Config.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const given = fromFiles.has(key) ? undefined : raw[key];
    // A database or Redis URL may hold a password: its error shows it without.
    const value = given === undefined || SECRET_SETTINGS.has(key) ? undefined : REDACTED_URLS.has(key) ? redactDatabaseUrl(given) : given;
    throw new ConfigError(
      `invalid ${origin[key] ?? key}${value === undefined ? '' : ` (${JSON.stringify(value)})`}: ${issue?.message ?? 'invalid value'}`,
    );
  }
  checkJwtSettings(parsed.data);
  checkEmbeddingSettings(parsed.data, origin);
  // First: with a database URL the size limit is refused outright, whatever its reserve.
  checkDatabaseSettings(parsed.data, origin);
  checkAuditReserve(parsed.data);
  if (parsed.data.httpSessions === 'database' && parsed.data.databaseUrl === undefined) {
    throw new ConfigError(`${origin.httpSessions} keeps sessions in the PostgreSQL database: set --database-url (or PINAK_DATABASE_URL) too, or use --http-sessions memory`);
  }
  return parsed.data;
}

/** Settings whose value is never echoed in an error: they are secrets as a whole. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(['embedApiKey']);
/** URLs that may hold a password: their errors show them without. */
const REDACTED_URLS: ReadonlySet<string> = new Set(['databaseUrl', 'redisUrl', 'embedUrl']);

/** The settings of a model run in this process, which mean nothing for an embedding service. */
const LOCAL_MODEL_SETTINGS = ['modelDir', 'modelCacheDir', 'allowRemoteModels', 'embedDtype', 'embedWorkers'] as const;
/** The settings of an embedding service, which mean nothing for a local model. */
const SERVICE_SETTINGS = ['embedUrl', 'embedApiKey', 'embedTimeoutMs', 'embedDimensions'] as const;

/** An embedding service needs a URL and (but for TEI, which serves one model) a model name; each side's settings are refused on the other. */
function checkEmbeddingSettings(config: Config, origin: Readonly<Record<string, string>>): void {
  const provider = config.embedProvider;
  if (provider === 'local') {
    const stray = SERVICE_SETTINGS.find((key) => Object.hasOwn(origin, key));
    if (stray !== undefined) throw new ConfigError(`${origin[stray]} is for an embedding service: add --embed-provider openai, ollama or tei (or leave it out to embed in this process)`);
    return;
  }
  const stray = LOCAL_MODEL_SETTINGS.find((key) => Object.hasOwn(origin, key));
  if (stray !== undefined) throw new ConfigError(`${origin[stray]} is for a model run in this process, not for --embed-provider ${provider}: leave it out`);
  if (config.embedUrl === undefined) throw new ConfigError(`--embed-provider ${provider} needs the service's address: set --embed-url (or PINAK_EMBED_URL), such as ${EXAMPLE_URL[provider]}`);
  const named = Object.hasOwn(origin, 'embedModel');
  if (named && (config.embedModel === 'none' || config.embedModel === 'bundled')) {
    throw new ConfigError(`${origin.embedModel} names the service's model with --embed-provider ${provider}, not "${config.embedModel}": give the model's name, or use --embed-provider local`);
  }
  if (!named && provider !== 'tei') throw new ConfigError(`--embed-provider ${provider} needs the service's model name: set --embed-model (or PINAK_EMBED_MODEL), such as ${EXAMPLE_MODEL[provider]}`);
  if (config.embedDimensions !== undefined && provider !== 'openai') throw new ConfigError(`${origin.embedDimensions} is the OpenAI API's dimensions parameter: only with --embed-provider openai`);
}

const EXAMPLE_URL = { openai: 'https://api.openai.com', ollama: 'http://127.0.0.1:11434', tei: 'http://127.0.0.1:8080' } as const;
const EXAMPLE_MODEL = { openai: 'text-embedding-3-small', ollama: 'nomic-embed-text' } as const;

/** The model name of an embedding service, or null for TEI given none (it serves one model). */
export const serviceModelName = (config: Pick<Config, 'embedProvider' | 'embedModel'>): string | null =>
  config.embedProvider === 'tei' && config.embedModel === 'bundled' ? null : config.embedModel;

/** The largest file a setting is read from (they hold a word, a URL or a secret, nothing more). */
const MAX_SETTING_FILE_BYTES = 64 * 1024;

/**
 * A setting's value from a file (`PINAK_<NAME>_FILE`, as Docker and
 * Kubernetes mount secrets): its text without one trailing line break.
 */
function readSettingFile(path: string, variable: string): string {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigError(`cannot read ${variable} (${path}): not a regular file`);
    if (stat.size > MAX_SETTING_FILE_BYTES) throw new ConfigError(`cannot read ${variable} (${path}): over ${MAX_SETTING_FILE_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read ${variable} (${path}): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ConfigError(`${variable} names an empty file (${path})`);
  return value;
}

/** The audit trail's reserve is a part of the size limit: it needs one, and must leave room for records. */
function checkAuditReserve(config: Config): void {
  if (config.auditReserveBytes === undefined) return;
  if (config.maxDatabaseBytes === undefined) throw new ConfigError('--audit-reserve-bytes is a share of --max-database-bytes: set that too');
  if (config.auditReserveBytes >= config.maxDatabaseBytes) {
    throw new ConfigError(`--audit-reserve-bytes (${config.auditReserveBytes}) must be less than --max-database-bytes (${config.maxDatabaseBytes})`);
  }
}

/** The settings that tune the PostgreSQL connections, which mean nothing without a database URL. */
const POSTGRES_TUNING = ['databasePoolSize', 'databaseConnectTimeoutMs', 'databaseStatementTimeoutMs', 'databaseIdleInTransactionTimeoutMs', 'waitForDatabaseMs'] as const;

/** A PostgreSQL setting given without a database URL is a mistake (the data would go to SQLite), not something to ignore. */
function checkDatabaseSettings(config: Config, origin: Readonly<Record<string, string>>): void {
  if (config.databaseUrl !== undefined) {
    // The size limit is the SQLite file's; a PostgreSQL database is sized (and limited) by its server.
    const sqliteOnly = (['maxDatabaseBytes', 'auditReserveBytes'] as const).find((key) => Object.hasOwn(origin, key));
    if (sqliteOnly !== undefined) throw new ConfigError(`${origin[sqliteOnly]} limits the SQLite file, not a PostgreSQL database (size it with the database server's own limits): leave it out with --database-url`);
    return;
  }
  const stray = POSTGRES_TUNING.find((key) => Object.hasOwn(origin, key));
  if (stray === undefined) return;
  throw new ConfigError(`${origin[stray]} is a PostgreSQL setting: set --database-url (or PINAK_DATABASE_URL) too, or leave it out to use SQLite`);
}


/** Tokens need an issuer, an audience and exactly one source of keys; the other JWT settings need tokens. */
function checkJwtSettings(config: Config): void {
  const sources = [config.jwtJwksFile, config.jwtJwksUrl].filter((v) => v !== undefined).length;
  if (sources === 2) throw new ConfigError('set --jwt-jwks-file or --jwt-jwks-url, not both');
  const named = config.jwtIssuer !== undefined || config.jwtAudience !== undefined || config.jwtNamespacesClaim !== undefined || config.jwtAllowLocalTenant;
  if (sources === 0 && named) throw new ConfigError('bearer tokens need the issuer\'s keys: set --jwt-jwks-file or --jwt-jwks-url');
  if (sources === 1 && (config.jwtIssuer === undefined || config.jwtAudience === undefined)) {
    throw new ConfigError('bearer tokens need --jwt-issuer and --jwt-audience as well as the JWKS');
  }
}

/** How bearer tokens are checked, or null when none are accepted. */
export function jwtOptions(config: Config): { issuer: string; audience: string; jwks: { file: string } | { url: string }; claims: { tenant: string; role: string; namespaces: string | null }; allowLocalTenant: boolean } | null {
  const jwks = config.jwtJwksFile !== undefined ? { file: config.jwtJwksFile } : config.jwtJwksUrl !== undefined ? { url: config.jwtJwksUrl } : null;
  if (!jwks || config.jwtIssuer === undefined || config.jwtAudience === undefined) return null;
  const claims = { tenant: config.jwtTenantClaim, role: config.jwtRoleClaim, namespaces: config.jwtNamespacesClaim ?? null };
  return { issuer: config.jwtIssuer, audience: config.jwtAudience, jwks, claims, allowLocalTenant: config.jwtAllowLocalTenant };
}

/** The database file inside a data directory. */
export const databaseFile = (config: Pick<Config, 'dataDir'>): string => join(config.dataDir, 'pinak.db');

/** The API key store of a data directory, shared by all its tenants. */
export const keysFile = (config: Pick<Config, 'dataDir'>): string => join(config.dataDir, 'keys.db');

/** Where the API keys are: keys.db in the data directory, or the shared schema of the PostgreSQL database. */
export const keyStoreLocation = (config: Pick<Config, 'dataDir' | 'busyTimeoutMs' | 'databaseUrl' | 'databaseConnectTimeoutMs' | 'waitForDatabaseMs'>) => ({
  file: keysFile(config),
  busyTimeoutMs: config.busyTimeoutMs,
  databaseUrl: config.databaseUrl,
  connectTimeoutMs: config.databaseConnectTimeoutMs,
  waitForDatabaseMs: config.waitForDatabaseMs,
});

/** Where HTTP sessions live: in the database when there is one (replicas), unless asked otherwise. */
export const httpSessionsIn = (config: Pick<Config, 'httpSessions' | 'databaseUrl'>): 'memory' | 'database' =>
  config.httpSessions ?? (config.databaseUrl !== undefined ? 'database' : 'memory');

/** The burst of the per-key rate limit: as configured, else a tenth of the per-minute rate. */
export const rateLimitBurst = (config: Pick<Config, 'rateLimitPerMinute' | 'rateLimitBurst'>): number =>
  config.rateLimitBurst ?? Math.max(1, Math.ceil(config.rateLimitPerMinute / 10));
