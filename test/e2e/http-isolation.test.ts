import { describeTenantIsolation } from '../helpers/tenant-isolation.js';

// Tenants in SQLite: one data directory (one file) each. test/e2e/postgres-tenants.test.ts runs the same on PostgreSQL.
describeTenantIsolation({ name: 'SQLite', serverArgs: async () => [] });
