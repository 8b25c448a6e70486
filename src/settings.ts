import type { Config } from './config.js';

/** The log levels pino knows, and silent. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How each setting is spelled on the command line and in the environment. */
export const SETTINGS = [
  { key: 'dataDir', flag: 'data-dir', env: 'PINAK_DATA_DIR', help: 'where the database lives (default: $XDG_DATA_HOME/pinak-memory or ~/.local/share/pinak-memory)' },
  { key: 'namespace', flag: 'namespace', env: 'PINAK_NAMESPACE', help: 'default namespace for calls that name none (default: default)' },
  { key: 'logLevel', flag: 'log-level', env: 'PINAK_LOG_LEVEL', help: `log level on stderr: ${LOG_LEVELS.join(', ')} (default: info)` },
  { key: 'maxContentBytes', flag: 'max-content-bytes', env: 'PINAK_MAX_CONTENT_BYTES', help: 'largest memory content in UTF-8 bytes (default: 32768)' },
  { key: 'maxMetadataBytes', flag: 'max-metadata-bytes', env: 'PINAK_MAX_METADATA_BYTES', help: 'largest metadata object as JSON bytes (default: 16384)' },
  { key: 'secrets', flag: 'secrets', env: 'PINAK_SECRETS', help: 'what a write does with a secret (API key, token, private key, password, card number) in its text: redact (store [redacted: kind] instead, the default), refuse (a tool error), or allow (store it as sent)' },
  { key: 'secretsByNamespace', flag: 'secrets-by-namespace', env: 'PINAK_SECRETS_BY_NAMESPACE', help: 'namespaces that handle secrets otherwise than --secrets, comma separated: vault=allow,shared=refuse (default: none)' },
  { key: 'injections', flag: 'injections', env: 'PINAK_INJECTIONS', help: 'what a write does with text from the web, a tool or an import that reads as instructions aimed at a model: hold (stored, hidden from search until an admin approves it: pinak-memory review; the default), flag (stored with a flag), refuse (a tool error), or allow (not scanned)' },
  { key: 'injectionsOwn', flag: 'injections-own', env: 'PINAK_INJECTIONS_OWN', help: 'the same for a user\'s or the agent\'s own text (and text whose origin is not recorded): flag (the default), hold, refuse or allow' },
  { key: 'injectionsByNamespace', flag: 'injections-by-namespace', env: 'PINAK_INJECTIONS_BY_NAMESPACE', help: 'namespaces that act otherwise, comma separated: ns=refuse sets the action for web, tool and import text, ns=hold:hold also for the user\'s and agent\'s; tenant/ns=… applies in that tenant only (default: none)' },
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
  { key: 'httpSessions', flag: 'http-sessions', env: 'PINAK_HTTP_SESSIONS', help: 'HTTP: where Streamable HTTP sessions live: memory (this process: GET streams, cancellation) or database (the PostgreSQL database, else a file in the data directory: any worker or replica serves any request of any session) (default: database with --database-url or more than one worker, else memory)' },
  { key: 'workers', flag: 'workers', env: 'PINAK_WORKERS', help: 'HTTP: serving processes on one port and data directory, 1 to 64; any of them serves any request (default: 1; more need --http-sessions database, the default with more than one)' },
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
  { key: 'graphBuildAbove', flag: 'graph-build-above', env: 'PINAK_GRAPH_BUILD_ABOVE', help: 'a vector backlog of at least this many changes (a bulk load, a rebuild, a new model) is built into a new HNSW graph in a worker thread instead of on the serving thread; 0: never (default: 2000)' },
  { key: 'exactScanLimit', flag: 'exact-scan-limit', env: 'PINAK_EXACT_SCAN_LIMIT', help: 'filters admitting at most this many records use an exact vector scan (default: 20000)' },
  { key: 'fusionMethod', flag: 'fusion-method', env: 'PINAK_FUSION_METHOD', help: 'hybrid search: how the keyword and vector rankings are joined: rrf (weighted reciprocal rank fusion) or tie-break (the vector leg reorders only near ties among the first 20 keyword hits) (default: tie-break for the bundled model, rrf for others)' },
  { key: 'fusionKeywordWeight', flag: 'fusion-keyword-weight', env: 'PINAK_FUSION_KEYWORD_WEIGHT', help: 'hybrid search: weight of the keyword ranking (default: 1)' },
  { key: 'fusionVectorWeight', flag: 'fusion-vector-weight', env: 'PINAK_FUSION_VECTOR_WEIGHT', help: 'hybrid search: weight of the vector ranking (default: 0.05 for the bundled model, tie-break; 1 for others)' },
  { key: 'contextShare', flag: 'context-share', env: 'PINAK_CONTEXT_SHARE', help: 'share of a keyword hit\'s score given to its thread neighbours, an alternative to windows; 0 turns it off (default: 0)' },
  { key: 'contextDecay', flag: 'context-decay', env: 'PINAK_CONTEXT_DECAY', help: 'how that share shrinks per step away in the thread (default: 0.5)' },
  { key: 'contextRadius', flag: 'context-radius', env: 'PINAK_CONTEXT_RADIUS', help: 'how many neighbours on each side receive it (default: 2)' },
  { key: 'contextWindow', flag: 'context-window', env: 'PINAK_CONTEXT_WINDOW', help: 'weight of the best matching thread window (a memory with its neighbours) in a memory\'s score; 0 turns it off (default: 3)' },
  { key: 'contextReply', flag: 'context-reply', env: 'PINAK_CONTEXT_REPLY', help: 'share of a matching question\'s own score given to the thread memory after it, its likely answer; 0 turns it off (default: 1)' },
  { key: 'speakerBoost', flag: 'speaker-boost', env: 'PINAK_SPEAKER_BOOST', help: 'keyword hits whose metadata speaker (or author) is named in the query score (1 + this), (1 + 3 × this) when the question asks for a list; 0 turns it off (default: 0.1)' },
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

/** A setting that cannot be used: one line for the user, exit code 1. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
