import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import type { Runtime } from '../../src/runtime.js';
import { TenantRuntimes } from '../../src/tenants.js';

/** Runtimes that only record being opened and closed; closing takes a few milliseconds, as a real one does. */
function fakeTenants(maxOpen: number, failFirst = new Set<string>()) {
  const events: string[] = [];
  let clock = 0;
  const fake = (name: string): Runtime =>
    ({
      logger: createLogger('silent'),
      close: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`closed ${name}`);
      },
    }) as unknown as Runtime;
  const tenants = new TenantRuntimes(
    fake('local'),
    async (tenant, dir) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (failFirst.delete(tenant)) throw new Error(`cannot open ${tenant}`);
      events.push(`opened ${tenant} in ${dir}`);
      return fake(tenant);
    },
    '/data',
    maxOpen,
    () => ++clock,
  );
  return { tenants, events };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('tenant runtimes', () => {
  it('open each tenant once, however many sessions ask at once; the local tenant is the server\'s own', async () => {
    const { tenants, events } = fakeTenants(0);
    const [a, b] = await Promise.all([tenants.acquire('acme'), tenants.acquire('acme')]);
    expect(a.runtime).toBe(b.runtime);
    expect((await tenants.acquire('local')).runtime).toBe(tenants.local);
    expect(events).toEqual(['opened acme in /data/tenants/acme']);
    expect(tenants.openNow().map((t) => t.tenant)).toEqual(['local', 'acme']);
    await expect(tenants.acquire('../etc')).rejects.toThrow(/invalid tenant name/);
  });

  it('without a cap keep every tenant open until shutdown', async () => {
    const { tenants, events } = fakeTenants(0);
    for (const name of ['a', 'b', 'c']) (await tenants.acquire(name)).release();
    await settle();
    expect(tenants.size).toBe(3);
    await tenants.close();
    expect(events.filter((e) => e.startsWith('closed')).sort()).toEqual(['closed a', 'closed b', 'closed c']);
    await expect(tenants.acquire('a')).rejects.toThrow(/shutting down/);
  });

  it('over the cap close tenants without a session, least recently used first, never one in use', async () => {
    const { tenants, events } = fakeTenants(2);
    const a = await tenants.acquire('a');
    const b = await tenants.acquire('b');
    const c = await tenants.acquire('c');
    await settle();
    // Three in use: over the cap, but none may close.
    expect([tenants.size, events.filter((e) => e.startsWith('closed'))]).toEqual([3, []]);
    b.release();
    b.release(); // twice is once
    a.release();
    await settle();
    // b went idle first, and closing it is enough.
    expect(events.filter((e) => e.startsWith('closed'))).toEqual(['closed b']);
    expect(tenants.openNow().map((t) => t.tenant)).toEqual(['local', 'a', 'c']);
    // A new tenant pushes out the least recently used idle one (a), not c, which is in use.
    const d = await tenants.acquire('d');
    await settle();
    expect(events.filter((e) => e.startsWith('closed'))).toEqual(['closed b', 'closed a']);
    // A closed tenant opens again on its next session.
    c.release();
    d.release();
    const again = await tenants.acquire('b');
    expect(events.filter((e) => e === 'opened b in /data/tenants/b')).toHaveLength(2);
    again.release();
    await tenants.close();
  });

  it('reopen a tenant being closed only once its close has finished', async () => {
    const { tenants, events } = fakeTenants(1);
    (await tenants.acquire('a')).release();
    (await tenants.acquire('b')).release(); // closes a (5 ms)
    const back = await tenants.acquire('a'); // waits for that, then opens a again (closing b)
    expect(events.indexOf('closed a')).toBeGreaterThan(-1);
    expect(events.indexOf('closed a')).toBeLessThan(events.lastIndexOf('opened a in /data/tenants/a'));
    back.release();
    await tenants.close();
  });

  it('do not remember a failed open: the next session tries again', async () => {
    const { tenants, events } = fakeTenants(1, new Set(['a']));
    await expect(tenants.acquire('a')).rejects.toThrow(/cannot open a/);
    expect(tenants.size).toBe(0);
    const lease = await tenants.acquire('a');
    expect(events).toEqual(['opened a in /data/tenants/a']);
    lease.release();
    await tenants.close();
  });
});
