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

/** A tenant's runtime lent to one session; `release` once the session has ended. */
export interface TenantLease {
  readonly runtime: Runtime;
  release(): void;
}

interface Entry {
  readonly runtime: Promise<Runtime>;
  /** Sessions using it: a runtime in use is never closed. */
  users: number;
  lastUsed: number;
}

/**
 * The runtime of each tenant in use: the server's own for the local tenant,
 * the others opened on their first session (once, however many sessions ask
 * at the same moment) and closed at shutdown. With `maxOpen` > 0, once more
 * than that many are open, the tenants without a session are closed, least
 * recently used first (a cap on idle ones: tenants in use stay open).
 */
export class TenantRuntimes {
  private readonly entries = new Map<string, Entry>();
  /** The runtimes whose opening has finished, for metrics. */
  private readonly ready = new Map<string, Runtime>();
  /** Runtimes being closed: a tenant asked for again is reopened only after. */
  private readonly closing = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    readonly local: Runtime,
    private readonly open: (tenant: string, dataDir: string) => Promise<Runtime>,
    private readonly dataDir: string,
    private readonly maxOpen = 0,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The tenant's runtime for one session, opening it if needed. */
  async acquire(tenant: string): Promise<TenantLease> {
    if (tenant === LOCAL_TENANT) return { runtime: this.local, release: () => {} };
    if (this.closed) throw new Error('the server is shutting down');
    let entry = this.entries.get(tenant);
    if (!entry) {
      const dir = tenantDataDir(this.dataDir, tenant);
      const opened: Promise<Runtime> = (this.closing.get(tenant) ?? Promise.resolve()).then(() => this.open(tenant, dir));
      const created: Entry = { runtime: opened, users: 0, lastUsed: this.now() };
      entry = created;
      this.entries.set(tenant, created);
      opened.then(
        (runtime) => {
          if (this.entries.get(tenant) === created) this.ready.set(tenant, runtime);
        },
        // A failed open is not remembered: the next session tries again.
        () => {
          if (this.entries.get(tenant) === created) this.entries.delete(tenant);
        },
      );
    }
    const used = entry;
    used.users += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      used.users -= 1;
      used.lastUsed = this.now();
      this.closeIdle();
    };
    this.closeIdle();
    try {
      return { runtime: await used.runtime, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Over the cap: close tenants without a session, least recently used first. */
  private closeIdle(): void {
    if (this.maxOpen <= 0 || this.closed) return;
    while (this.entries.size > this.maxOpen) {
      const idle = [...this.entries].filter(([, e]) => e.users === 0).sort(([, a], [, b]) => a.lastUsed - b.lastUsed)[0];
      if (!idle) return;
      const [tenant, entry] = idle;
      this.entries.delete(tenant);
      this.ready.delete(tenant);
      const done: Promise<void> = entry.runtime
        .then((runtime) => runtime.close())
        .catch((error: unknown) => this.local.logger.error({ err: error, tenant }, 'could not close an idle tenant'))
        .finally(() => {
          if (this.closing.get(tenant) === done) this.closing.delete(tenant);
        });
      this.closing.set(tenant, done);
      this.local.logger.info({ tenant, open: this.entries.size, maxOpen: this.maxOpen }, 'closing an idle tenant (over --max-open-tenants)');
    }
  }

  /** Every tenant with an open runtime, the local one first. */
  openNow(): Array<{ tenant: string; runtime: Runtime }> {
    return [{ tenant: LOCAL_TENANT, runtime: this.local }, ...[...this.ready].map(([tenant, runtime]) => ({ tenant, runtime }))];
  }

  /** Tenants with an open (or opening) runtime, besides the local one. */
  get size(): number {
    return this.entries.size;
  }

  /** Close every tenant runtime opened here (not the local one, which its owner closes). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    this.ready.clear();
    await Promise.all([...all.map(async (entry) => (await entry.runtime.catch(() => null))?.close()), ...this.closing.values()]);
  }
}
