import { join } from 'node:path';
import { LOCAL_TENANT, TENANT_PATTERN } from './domain/principal.js';
import type { Runtime } from './runtime.js';

/**
 * Where a tenant's records live: the local tenant in the data directory
 * itself (as before tenants existed), every other one in its own directory
 * under tenants/. Tenants never share a database, so nothing can cross.
 */
export function tenantDataDir(dataDir: string, tenant: string): string {
  if (tenant === LOCAL_TENANT) return dataDir;
  if (!TENANT_PATTERN.test(tenant)) throw new Error(`invalid tenant name ${JSON.stringify(tenant)}`);
  return join(dataDir, 'tenants', tenant);
}

/**
 * The runtime of each tenant in use: the server's own for the local tenant,
 * the others opened on their first session (once, however many sessions ask
 * at the same moment) and closed at shutdown.
 */
export class TenantRuntimes {
  private readonly opened = new Map<string, Promise<Runtime>>();
  /** The runtimes whose opening has finished, for metrics. */
  private readonly ready = new Map<string, Runtime>();
  private closed = false;

  constructor(
    readonly local: Runtime,
    private readonly open: (tenant: string, dataDir: string) => Promise<Runtime>,
    private readonly dataDir: string,
  ) {}

  get(tenant: string): Promise<Runtime> {
    if (tenant === LOCAL_TENANT) return Promise.resolve(this.local);
    if (this.closed) return Promise.reject(new Error('the server is shutting down'));
    let runtime = this.opened.get(tenant);
    if (!runtime) {
      runtime = this.open(tenant, tenantDataDir(this.dataDir, tenant));
      this.opened.set(tenant, runtime);
      runtime.then(
        (open) => {
          if (this.opened.has(tenant)) this.ready.set(tenant, open);
        },
        // A failed open is not remembered: the next session tries again.
        () => this.opened.delete(tenant),
      );
    }
    return runtime;
  }

  /** Tenants with an open runtime (besides the local one). */
  get size(): number {
    return this.opened.size;
  }

  /** Every tenant with an open runtime, the local one first. */
  openNow(): Array<{ tenant: string; runtime: Runtime }> {
    return [{ tenant: LOCAL_TENANT, runtime: this.local }, ...[...this.ready].map(([tenant, runtime]) => ({ tenant, runtime }))];
  }

  /** Close every tenant runtime opened here (not the local one, which its owner closes). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.opened.values()];
    this.opened.clear();
    this.ready.clear();
    await Promise.all(all.map(async (runtime) => (await runtime.catch(() => null))?.close()));
  }
}
