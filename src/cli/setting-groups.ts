import { SETTINGS } from '../config.js';

type Flag = (typeof SETTINGS)[number]['flag'];

/**
 * The configuration settings in groups, by what they are about: each command
 * takes the groups it reads (export has no use for --port), and serve's help
 * lists them under these titles. Every setting is in exactly one group (a
 * unit test checks it).
 */
export const SETTING_GROUPS = {
  place: { title: 'Data', flags: ['data-dir'] },
  locking: { title: 'Data', flags: ['busy-timeout-ms'] },
  database: { title: 'Data', flags: ['cache-mb', 'max-database-bytes', 'audit-reserve-bytes'] },
  logging: { title: 'Data', flags: ['log-level'] },
  postgres: {
    title: 'PostgreSQL (instead of SQLite)',
    flags: [
      'database-url', 'database-pool-size', 'database-connect-timeout-ms', 'database-statement-timeout-ms', 'database-idle-in-transaction-timeout-ms',
      'wait-for-database-ms',
    ],
  },
  records: { title: 'Data', flags: ['namespace', 'max-content-bytes', 'max-metadata-bytes', 'secrets', 'secrets-by-namespace', 'injections', 'injections-own', 'injections-by-namespace'] },
  http: {
    title: 'HTTP',
    flags: [
      'transport', 'host', 'port', 'allowed-hosts', 'allowed-origins', 'max-body-bytes', 'max-sessions', 'max-sessions-per-key',
      'max-sessions-per-tenant', 'max-connections', 'max-connections-per-address', 'max-calls-per-session', 'session-idle-seconds', 'auth', 'rate-limit-per-minute',
      'rate-limit-burst', 'redis-url', 'max-open-tenants', 'http-sessions', 'workers', 'shutdown-delay-ms', 'replica-name',
    ],
  },
  tokens: {
    title: 'Bearer tokens (HTTP)',
    flags: ['jwt-issuer', 'jwt-audience', 'jwt-jwks-file', 'jwt-jwks-url', 'jwt-tenant-claim', 'jwt-role-claim', 'jwt-namespaces-claim', 'jwt-allow-local-tenant'],
  },
  embedding: {
    title: 'Embeddings and the vector index',
    flags: [
      'embed-provider', 'embed-model', 'embed-url', 'embed-api-key', 'embed-timeout-ms', 'embed-dimensions', 'model-dir', 'model-cache-dir', 'allow-remote-models',
      'embed-dtype', 'embed-workers', 'embed-batch',
    ],
  },
  vectors: {
    title: 'Embeddings and the vector index',
    flags: ['hnsw-m', 'hnsw-ef-construction', 'hnsw-ef-search', 'snapshot-every-changes', 'snapshot-interval-ms', 'exact-scan-limit', 'graph-build-above'],
  },
  search: {
    title: 'Search',
    flags: [
      'fusion-method', 'fusion-keyword-weight', 'fusion-vector-weight', 'fusion-rrf-k', 'context-window', 'context-reply', 'context-share', 'context-decay',
      'context-radius', 'speaker-boost', 'soft-and-weight',
    ],
  },
} as const satisfies Record<string, { title: string; flags: readonly Flag[] }>;

export type SettingGroup = keyof typeof SETTING_GROUPS;

/** The flags of these groups, in order. */
export const settingsOf = (...groups: SettingGroup[]): string[] => groups.flatMap((group) => [...SETTING_GROUPS[group].flags]);

/** The groups a command that opens the whole store for writing reads (import, reindex), besides its own. */
export const STORE_GROUPS: SettingGroup[] = ['place', 'locking', 'database', 'postgres', 'logging', 'embedding', 'vectors'];
