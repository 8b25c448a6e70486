import type { Database, Statement } from 'better-sqlite3';
import { holderIsDead, LEASE_HOLDER } from '../lease-holder.js';

/** Named, expiring leases in SQLite, shared by every process on the data directory. */
export class LeaseRows {
  private readonly claim: Statement;
  private readonly current: Statement;
  private readonly steal: Statement;
  private readonly release: Statement;

  constructor(private readonly db: Database) {
    this.claim = db.prepare(`INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expires)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE leases.holder = excluded.holder OR leases.expires_at < @now`);
    this.current = db.prepare('SELECT holder FROM leases WHERE name = ?');
    this.steal = db.prepare('UPDATE leases SET holder = ?, expires_at = ? WHERE name = ? AND holder = ?');
    this.release = db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?');
  }

  /** Take or renew the lease for `ttlMs`; false while another live holder has it. */
  acquire(name: string, ttlMs: number, holder = LEASE_HOLDER): boolean {
    const now = Date.now();
    return this.db.transaction(() => {
      if (this.claim.run({ name, holder, expires: now + ttlMs, now }).changes > 0) return true;
      const row = this.current.get(name) as { holder: string } | undefined;
      return row !== undefined && holderIsDead(row.holder) && this.steal.run(holder, now + ttlMs, name, row.holder).changes > 0;
    }).immediate();
  }

  releaseLease(name: string, holder = LEASE_HOLDER): void {
    this.release.run(name, holder);
  }
}
