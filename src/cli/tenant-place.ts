import { existsSync } from 'node:fs';
import { parseTenant } from '../auth/key-input.js';
import type { Config } from '../config.js';
import { LOCAL_TENANT } from '../domain/principal.js';
import { sqliteFile } from '../store/open-store.js';
import { tenantDataDir } from '../tenants.js';
import { UsageError } from './usage-error.js';

/**
 * The tenant a command's --tenant names (the local one without it) and its
 * data directory. On SQLite a tenant never used has no store, and a command
 * reading one must not leave an empty one behind: it is refused.
 */
export function existingTenant(config: Config, tenantFlag: string | undefined): { tenant: string; dataDir: string } {
  const tenant = tenantFlag === undefined ? LOCAL_TENANT : parseTenant(tenantFlag);
  const dataDir = tenantDataDir(config.dataDir, tenant);
  if (tenant !== LOCAL_TENANT && config.databaseUrl === undefined && !existsSync(sqliteFile(dataDir))) {
    throw new UsageError(`tenant ${tenant} has no records in ${config.dataDir} (no ${sqliteFile(dataDir)})`);
  }
  return { tenant, dataDir };
}
