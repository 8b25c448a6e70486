import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { isPostgresUrl, isRedisUrl, redactDatabaseUrl } from './domain/database-url.js';
import { Namespace } from './domain/fields.js';
import { checkEmbeddingSettings } from './embedding-settings.js';
import { ConfigError, fileVariableOf, LOG_LEVELS, SETTINGS } from './settings.js';
import { SECRET_ACTIONS } from './firewall/secret-guard.js';
import { INJECTION_ACTIONS } from './firewall/injection-guard.js';
import { FUSION_METHODS } from './memory/context.js';
import {
  boolFromText, ClaimName, EMBED_PROVIDERS, HOST, HOST_HEADER, intFromText, isJwksUrl, isOrigin, isServiceUrl, listFromText, numberFromText, REPLICA_NAME, SECRET_ACTION_MESSAGE,
  secretsByNamespace, INJECTION_ACTION_MESSAGE, injectionsByNamespace,
} from './setting-values.js';

export { redactDatabaseUrl } from './domain/database-url.js';
export { EMBED_PROVIDERS } from './setting-values.js';
export { serviceModelName } from './embedding-settings.js';
export { ConfigError, ENVIRONMENT_VARIABLES, fileVariableOf, SETTINGS } from './settings.js';

/** The most serving processes --workers may ask for. */
export const MAX_WORKERS = 64;

/** Every setting, its default and its bounds: the one place configuration is defined. */
export const Config = z.strictObject({
  dataDir: z.string().min(1),
  namespace: Namespace.default('default'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  maxContentBytes: intFromText(1, 1024 * 1024).default(32 * 1024),
  maxMetadataBytes: intFromText(2, 256 * 1024).default(16 * 1024),
  secrets: z.enum(SECRET_ACTIONS, { message: SECRET_ACTION_MESSAGE }).default('redact'),
  secretsByNamespace: secretsByNamespace.default([]),
  injections: z.enum(INJECTION_ACTIONS, { message: INJECTION_ACTION_MESSAGE }).default('hold'),
  injectionsOwn: z.enum(INJECTION_ACTIONS, { message: INJECTION_ACTION_MESSAGE }).default('flag'),
  injectionsByNamespace: injectionsByNamespace.default([]),
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
  graphBuildAbove: intFromText(0, 100_000_000).default(2_000),
  fusionMethod: z.enum(FUSION_METHODS, { message: `expected one of ${FUSION_METHODS.join(', ')}` }).optional(),
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
  workers: z.coerce.number({ message: 'expected a whole number of serving processes, 1 to 64' }).int('expected a whole number of serving processes, 1 to 64').min(1, 'expected at least 1 serving process').max(MAX_WORKERS, `expected at most ${MAX_WORKERS} serving processes`).optional(),
  replicaName: z.string().regex(REPLICA_NAME, 'expected a short name of lowercase letters, digits and hyphens, such as pinak1 (at most 32 characters, starting with a letter or digit)').optional(),
});
export type Config = z.infer<typeof Config>;

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
  checkWorkers(parsed.data, origin);
  return parsed.data;
}

/** Settings whose value is never echoed in an error: they are secrets as a whole. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(['embedApiKey']);
/** URLs that may hold a password: their errors show them without. */
const REDACTED_URLS: ReadonlySet<string> = new Set(['databaseUrl', 'redisUrl', 'embedUrl']);

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

/**
 * Serving processes over HTTP when --workers is not given: one. Two workers on
 * two cores served as many calls as one (1.00x on a quiet machine, each call
 * costing a third more CPU), one process keeps its GET streams and
 * cancellation (sessions in memory), and keyword search keeps its in-memory
 * BM25, which another process's writes to the full-text table suspend: more
 * are opt-in until they pay.
 */
export const DEFAULT_WORKERS = 1;

/** How many serving processes: one for stdio (where more mean nothing); else as set, or DEFAULT_WORKERS. */
export const workersOf = (config: Pick<Config, 'transport' | 'workers'>): number =>
  config.transport !== 'http' ? 1 : (config.workers ?? DEFAULT_WORKERS);

/**
 * Where HTTP sessions live: in the database when there is one (replicas) or
 * when several processes serve (the data directory's SQLite file), unless
 * asked otherwise.
 */
export const httpSessionsIn = (config: Pick<Config, 'httpSessions' | 'databaseUrl' | 'transport' | 'workers'>): 'memory' | 'database' =>
  config.httpSessions ?? (config.databaseUrl !== undefined || workersOf(config) > 1 ? 'database' : 'memory');

/**
 * --workers means something over HTTP only (given as a flag to stdio, a
 * mistake; in the environment, as other commands and stdio servers share it,
 * ignored there), and several processes cannot serve sessions one of them
 * holds in memory.
 */
function checkWorkers(config: Config, origin: Readonly<Record<string, string>>): void {
  if (config.workers === undefined) return;
  if (config.transport !== 'http') {
    if (config.workers > 1 && origin.workers?.startsWith('flag')) {
      throw new ConfigError(`${origin.workers} runs several HTTP serving processes, and stdio has one client: leave it out, or serve with --transport http`);
    }
    return;
  }
  if (config.workers > 1 && config.httpSessions === 'memory') {
    throw new ConfigError(
      `${origin.httpSessions} keeps each session in the process that opened it, but with ${origin.workers} (${config.workers}) any process may receive its next request: use --http-sessions database (shared in the data directory or the PostgreSQL database), or --workers 1`,
    );
  }
}

/** The burst of the per-key rate limit: as configured, else a tenth of the per-minute rate. */
export const rateLimitBurst = (config: Pick<Config, 'rateLimitPerMinute' | 'rateLimitBurst'>): number =>
  config.rateLimitBurst ?? Math.max(1, Math.ceil(config.rateLimitPerMinute / 10));
