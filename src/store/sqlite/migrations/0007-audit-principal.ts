import type { Migration } from './migration.js';

/**
 * Who made each audited call: the principal (an API key's id, or "local"),
 * its tenant, and the remote address of an HTTP connection. Rows written
 * before keys existed keep NULL: they were all local.
 */
export const migration0007: Migration = {
  version: 7,
  name: 'audit principal',
  up(db) {
    db.exec(`
      ALTER TABLE audit_log ADD COLUMN principal_id TEXT;
      ALTER TABLE audit_log ADD COLUMN tenant TEXT;
      ALTER TABLE audit_log ADD COLUMN remote_address TEXT;
    `);
  },
};
