import { AuditTrail } from './audit/audit-trail.js';
import { databaseFile, type Config } from './config.js';
import type { Logger } from './logging.js';
import type { MemoryContext } from './memory/context.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { MemoryStore } from './store/store.js';

/** The long-lived parts shared by every connection: storage, use-case context, audit trail. */
export interface Runtime {
  readonly store: MemoryStore;
  readonly memory: MemoryContext;
  readonly audit: AuditTrail;
  readonly logger: Logger;
  close(): Promise<void>;
}

/** Build a runtime over an already opened store. */
export function createRuntime(store: MemoryStore, config: Pick<Config, 'namespace' | 'maxContentBytes' | 'maxMetadataBytes'>, logger: Logger): Runtime {
  return {
    store,
    logger,
    audit: new AuditTrail(store, logger),
    memory: {
      store,
      defaultNamespace: config.namespace,
      limits: { maxContentBytes: config.maxContentBytes, maxMetadataBytes: config.maxMetadataBytes },
      now: () => new Date().toISOString(),
    },
    close: () => store.close(),
  };
}

/** Open the embedded SQLite store in the configured data directory. */
export function openRuntime(config: Config, logger: Logger): Runtime {
  const file = databaseFile(config);
  const store = SqliteStore.open({ file, busyTimeoutMs: config.busyTimeoutMs });
  logger.info({ dataDir: config.dataDir }, 'database open');
  return createRuntime(store, config, logger);
}
