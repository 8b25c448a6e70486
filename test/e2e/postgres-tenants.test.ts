import { expect } from 'vitest';
import { tenantSchema } from '../../src/store/open-store.js';
import { adminQuery, freshDatabase } from '../helpers/postgres.js';
import { describeTenantIsolation } from '../helpers/tenant-isolation.js';

let databaseUrl = '';

// The isolation scenario of test/e2e/http-isolation.test.ts, with the tenants in PostgreSQL: one schema each, in one database.
describeTenantIsolation({
  name: 'PostgreSQL',
  async serverArgs(defer) {
    const database = await freshDatabase();
    defer(() => database.drop());
    databaseUrl = database.url;
    // The test server has no pgvector: keyword search only (a vector search says so and answers by keyword).
    return ['--database-url', database.url, '--embed-model', 'none'];
  },
  // The keys are in the database too, where every server on it looks.
  keyArgs: () => ['--database-url', databaseUrl],
  async checkStorage(kept) {
    // Each tenant's memories are in its own schema, and no other schema holds any.
    const schemas = (await adminQuery<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname = 'pinak' OR nspname LIKE 'tenant\\_%' ORDER BY 1", [], databaseUrl)).rows.map((r) => r.name);
    expect(schemas).toEqual(['pinak', ...[...kept.keys()].map(tenantSchema)].sort());
    for (const schema of schemas) {
      const { rows } = await adminQuery<{ n: number }>(`SELECT COUNT(*)::int AS n FROM "${schema}".memories`, [], databaseUrl);
      const tenant = [...kept.keys()].find((name) => tenantSchema(name) === schema);
      expect(rows[0]!.n, schema).toBe(tenant === undefined ? 0 : kept.get(tenant));
    }
  },
});
