import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { SqliteKeyLimiter } from '../../src/auth/sqlite-rate-limiter.js';
import type { Principal } from '../../src/domain/principal.js';
import { openSharedFile, sharedFileOf } from '../../src/transports/http/shared-file.js';
import { SqliteSessionDirectory } from '../../src/transports/http/sqlite-session-directory.js';
import { SqliteUiSessions } from '../../src/ui/sqlite-sessions.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Two connections on one data directory's shared file, as two worker processes hold them. */
function twoProcesses(): [Database.Database, Database.Database] {
  const { dir, cleanup } = makeTempDir('pinak-shared-file-');
  const a = openSharedFile(sharedFileOf(dir), 5000);
  const b = openSharedFile(sharedFileOf(dir), 5000);
  cleanups.push(() => {
    a.close();
    b.close();
    cleanup();
  });
  return [a, b];
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const key = (id: string, tenant = 'acme'): Principal => ({ id, tenant, role: 'writer', namespaces: null, remoteAddress: '127.0.0.1' });
const LIMITS = { maxSessions: 4, maxPerKey: 2, maxPerTenant: 3, idleMs: 60_000 };

describe("the shared file of a data directory's serving processes", () => {
  it('sessions: opened by one, served and ended by the other, counted together against each limit, expired when idle', async () => {
    const [a, b] = twoProcesses();
    let now = 1_000_000;
    const first = new SqliteSessionDirectory(a, LIMITS, () => now);
    const second = new SqliteSessionDirectory(b, LIMITS, () => now);
    const open = (directory: SqliteSessionDirectory, id: string, principal: Principal) => directory.create({ id, principal, auditSession: `audit-${id}`, clientInfo: { name: 'client', version: '1' } });
    expect(await open(first, 's1', key('k1'))).toBeNull();
    expect(await open(second, 's2', key('k1'))).toBeNull();
    expect(await open(first, 's3', key('k1'))).toBe('key');
    expect(await open(second, 's3', key('k2'))).toBeNull();
    expect(await open(first, 's4', key('k3'))).toBe('tenant');
    expect(await open(first, 's4', key('k4', 'other'))).toBeNull();
    expect(await open(second, 's5', key('k5', 'third'))).toBe('server');
    const used = await second.use('s1', key('k1'));
    expect(used).toMatchObject({ id: 's1', auditSession: 'audit-s1', clientInfo: { name: 'client', version: '1' } });
    // Another principal's session is as good as none.
    expect(await second.use('s1', key('k2'))).toBeUndefined();
    await first.setLogLevel('s1', 'debug');
    expect((await second.use('s1', key('k1')))?.logLevel).toBe('debug');
    expect(await second.count()).toBe(4);
    expect(await second.end('s1', key('k1'))).toBe(true);
    expect(await first.use('s1', key('k1'))).toBeUndefined();
    expect(await first.endOf(['k2'])).toBe(1);
    expect(new Set(await second.principalIds())).toEqual(new Set(['k1', 'k4']));
    now += LIMITS.idleMs + 1;
    expect(await first.count()).toBe(0);
    expect(await open(second, 's6', key('k5', 'third'))).toBeNull();
  });

  it('rate limit: one bucket per key for every process', async () => {
    const [a, b] = twoProcesses();
    let now = 100;
    const limiters = [new SqliteKeyLimiter(a, 60, 4, () => now), new SqliteKeyLimiter(b, 60, 4, () => now)];
    const taken = [];
    for (let i = 0; i < 6; i++) taken.push((await limiters[i % 2]!.take('k1')).ok);
    expect(taken).toEqual([true, true, true, true, false, false]);
    expect(await limiters[0]!.take('k1')).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect((await limiters[1]!.take('k2')).ok).toBe(true);
    // One a second comes back.
    now += 1;
    expect((await limiters[1]!.take('k1')).ok).toBe(true);
    expect((await limiters[0]!.take('k1')).ok).toBe(false);
  });

  it('browser sign-ins: seen by every process, sealed on disk, gone with the key that sealed them; a one-time link spent once', () => {
    const [a, b] = twoProcesses();
    const sealKey = randomBytes(32);
    const first = new SqliteUiSessions(a, sealKey, 60_000, 10);
    const second = new SqliteUiSessions(b, sealKey, 60_000, 10);
    const session = first.signIn(null, { kind: 'bearer', value: 'pk_secret_value_never_on_disk' });
    expect(second.get(session.id)).toMatchObject({ csrf: session.csrf, credential: { kind: 'bearer', value: 'pk_secret_value_never_on_disk' }, auditId: session.auditId });
    const raw = a.prepare('SELECT key, sealed FROM ui_sessions').all() as Array<{ key: string; sealed: Buffer }>;
    expect(raw).toHaveLength(1);
    expect(raw[0]!.sealed.toString('latin1')).not.toContain('pk_secret');
    expect(raw[0]!.key).not.toBe(session.id);
    // Another start of the server (another key) cannot open it: signed out.
    const restarted = new SqliteUiSessions(b, randomBytes(32), 60_000, 10);
    expect(restarted.get(session.id)).toBeNull();
    expect(first.get(session.id)).toBeNull();
    const token = first.issueLocalToken(60_000);
    expect(second.spendLocalToken(token)).toBe(true);
    expect(first.spendLocalToken(token)).toBe(false);
    const out = second.create();
    second.end(out);
    expect(first.get(out.id)).toBeNull();
  });

  it('browser sign-ins: bounded, the oldest anonymous ones dropped first', () => {
    const [a] = twoProcesses();
    let now = 0;
    const sessions = new SqliteUiSessions(a, randomBytes(32), 60_000, 3, () => now);
    const signedIn = sessions.create({ kind: 'local' });
    now += 1;
    const anonymous = sessions.create();
    now += 1;
    sessions.create();
    now += 1;
    sessions.create();
    expect(sessions.get(anonymous.id)).toBeNull();
    expect(sessions.get(signedIn.id)).not.toBeNull();
  });
});
