import type pg from 'pg';
import { holderIsDead, LEASE_HOLDER } from '../lease-holder.js';
import { query, transaction } from './pool.js';

/**
 * A named lease held by one process of the deployment at a time (the
 * snapshot writer, the re-embedder): taken when free, expired or held by a
 * process that is gone; renewed by its holder.
 */
export async function acquireLease(pool: pg.Pool, name: string, ttlMs: number): Promise<boolean> {
  return transaction(pool, async (client) => {
    const now = Date.now();
    const claimed = await client.query(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at < $4`,
      [name, LEASE_HOLDER, now + ttlMs, now],
    );
    if ((claimed.rowCount ?? 0) > 0) return true;
    const { rows } = await client.query<{ holder: string }>('SELECT holder FROM leases WHERE name = $1 FOR UPDATE', [name]);
    const holder = rows[0]?.holder;
    if (holder === undefined || !holderIsDead(holder)) return false;
    const stolen = await client.query('UPDATE leases SET holder = $1, expires_at = $2 WHERE name = $3 AND holder = $4', [LEASE_HOLDER, now + ttlMs, name, holder]);
    return (stolen.rowCount ?? 0) > 0;
  });
}

/** Give a lease back, if this process holds it. */
export async function releaseLease(pool: pg.Pool, name: string): Promise<void> {
  await query(pool, 'DELETE FROM leases WHERE name = $1 AND holder = $2', [name, LEASE_HOLDER]);
}
