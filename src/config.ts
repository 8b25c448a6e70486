import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Namespace } from './domain/fields.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const intFromText = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max);

/** Every setting, its default and its bounds: the one place configuration is defined. */
export const Config = z.strictObject({
  dataDir: z.string().min(1),
  namespace: Namespace.default('default'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  maxContentBytes: intFromText(1, 1024 * 1024).default(32 * 1024),
  maxMetadataBytes: intFromText(2, 256 * 1024).default(16 * 1024),
  busyTimeoutMs: intFromText(0, 600_000).default(5000),
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
] as const satisfies ReadonlyArray<{ key: keyof Config; flag: string; env: string; help: string }>;

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
  for (const setting of SETTINGS) {
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      raw[setting.key] = fromEnv;
      origin[setting.key] = `environment variable ${setting.env}`;
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
    const value = raw[key];
    throw new ConfigError(
      `invalid ${origin[key] ?? key}${value === undefined ? '' : ` (${JSON.stringify(value)})`}: ${issue?.message ?? 'invalid value'}`,
    );
  }
  return parsed.data;
}

/** The database file inside a data directory. */
export const databaseFile = (config: Pick<Config, 'dataDir'>): string => join(config.dataDir, 'pinak.db');
