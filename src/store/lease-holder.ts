import { hostname } from 'node:os';

/** This process's identity as a lease holder: host, pid and a random suffix (pids are reused). */
export const LEASE_HOLDER = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;

/** True when the holder is a process on this host that no longer exists: its lease is stale now, not at expiry. */
export function holderIsDead(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
