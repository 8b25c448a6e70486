import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseExpiry, parseNamespaces, parseNewKey } from '../../src/auth/key-input.js';
import { bearerToken, generateKey, hashKey, looksLikeKey, sameDigest } from '../../src/auth/key-format.js';
import { RateLimiter } from '../../src/auth/rate-limiter.js';
import { rateLimitBurst, resolveConfig } from '../../src/config.js';
import { REDACT } from '../../src/logging.js';
import { tenantDataDir } from '../../src/tenants.js';

describe('API key format', () => {
  it('makes distinct 256-bit keys of one shape, hashed, compared in constant time', () => {
    const keys = new Set(Array.from({ length: 200 }, generateKey));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(looksLikeKey(key)).toBe(true);
    const [a, b] = [...keys];
    expect(hashKey(a!)).toMatch(/^[0-9a-f]{64}$/);
    expect(sameDigest(hashKey(a!), hashKey(a!))).toBe(true);
    expect(sameDigest(hashKey(a!), hashKey(b!))).toBe(false);
    expect(sameDigest('', '')).toBe(false);
    for (const bad of ['', 'pk_', `pk_${'a'.repeat(42)}`, `pk_${'a'.repeat(44)}`, `xx_${'a'.repeat(43)}`, `pk_${'a'.repeat(42)}+`]) expect(looksLikeKey(bad), bad).toBe(false);
  });

  it('reads Bearer tokens, and tells a missing header from a wrong one', () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken('Bearer pk_abc')).toBe('pk_abc');
    expect(bearerToken('bearer   pk_abc ')).toBe('pk_abc');
    expect(bearerToken(['Bearer first', 'Bearer second'])).toBe('first');
    for (const wrong of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'pk_abc', '']) expect(bearerToken(wrong), wrong).toBe('');
  });
});

describe('key options', () => {
  const now = new Date('2025-06-01T00:00:00Z');
  it('reads expiry as a time or a duration from now, and refuses the past and nonsense', () => {
    expect(parseExpiry('30d', now)).toBe('2025-07-01T00:00:00.000Z');
    expect(parseExpiry('12h', now)).toBe('2025-06-01T12:00:00.000Z');
    expect(parseExpiry('2w', now)).toBe('2025-06-15T00:00:00.000Z');
    expect(parseExpiry('2026-01-31T10:00:00Z', now)).toBe('2026-01-31T10:00:00.000Z');
    expect(parseExpiry(undefined, now)).toBeNull();
    for (const bad of ['30', 'd', '-1d', '1y', 'soon', '2025-05-31']) expect(() => parseExpiry(bad, now), bad).toThrow(/^invalid --expires/);
  });

  it('reads namespaces, roles and tenants strictly', () => {
    expect(parseNamespaces('a, b,a')).toEqual(['a', 'b']);
    expect(parseNamespaces(undefined)).toBeNull();
    expect(() => parseNamespaces('ok,bad name')).toThrow(/entry "bad name"/);
    expect(parseNewKey({ tenant: 'acme-1', role: 'reader' }, now)).toEqual({ tenant: 'acme-1', role: 'reader', namespaces: null, expires_at: null, name: null });
    for (const tenant of ['Acme', '-acme', 'a'.repeat(64), 'a/b', '..', 'a b', '']) expect(() => parseNewKey({ tenant, role: 'reader' }, now), tenant).toThrow(/--tenant/);
    expect(() => parseNewKey({ tenant: 'acme', role: 'root' }, now)).toThrow(/invalid --role "root"/);
    expect(() => parseNewKey({ tenant: 'acme', role: 'reader', name: 'two\nlines' }, now)).toThrow(/invalid --name/);
  });

  it('puts each tenant in its own directory, the local one in the data directory itself', () => {
    expect(tenantDataDir('/data', 'local')).toBe('/data');
    expect(tenantDataDir('/data', 'acme')).toBe('/data/tenants/acme');
    expect(() => tenantDataDir('/data', '../x')).toThrow();
  });
});

describe('rate limiter', () => {
  it('forgets buckets that have refilled, so one-off callers do not pile up, and charges a batch as many requests', () => {
    let now = 0;
    const limiter = new RateLimiter(60, 10, () => now);
    for (let i = 0; i < 1000; i++) limiter.take(`address-${i}`);
    expect(limiter.size).toBe(1000);
    expect(limiter.take('busy', 9).ok).toBe(true);
    expect(limiter.take('busy', 2)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now = 61_000;
    limiter.take('busy');
    // The one-off callers refilled long ago and are gone; the busy key is still there.
    expect(limiter.size).toBe(1);
  });

  it('allows a burst, then one request per refill interval, per key, and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter(60, 3, () => now);
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').ok).toBe(true);
    now = 999;
    expect(limiter.take('a').ok).toBe(false);
    now = 2000;
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, false]);
    now = 3_600_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a').ok)).toEqual([true, true, true, false]);
    const slow = new RateLimiter(2, 1, () => 0);
    slow.take('a');
    expect(slow.take('a')).toEqual({ ok: false, retryAfterSeconds: 30 });
    const off = new RateLimiter(0, 1, () => 0);
    expect(Array.from({ length: 100 }, () => off.take('a').ok).every(Boolean)).toBe(true);
  });

  it('is configured by flags, with a burst of a tenth of the rate by default', () => {
    const config = resolveConfig({ 'data-dir': '/d', 'rate-limit-per-minute': '120' }, {});
    expect([config.auth, config.rateLimitPerMinute, rateLimitBurst(config)]).toEqual(['auto', 120, 12]);
    expect(rateLimitBurst(resolveConfig({ 'data-dir': '/d' }, { PINAK_RATE_LIMIT_PER_MINUTE: '5', PINAK_RATE_LIMIT_BURST: '9' }))).toBe(9);
    expect(rateLimitBurst(resolveConfig({ 'data-dir': '/d', 'rate-limit-per-minute': '0' }, {}))).toBe(1);
    expect(() => resolveConfig({ 'data-dir': '/d', 'rate-limit-burst': '0' }, {})).toThrow(/--rate-limit-burst/);
  });
});

describe('logging', () => {
  it('redacts Authorization headers wherever they appear', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
    const logger = pino({ redact: REDACT }, sink);
    logger.info({ authorization: 'Bearer pk_one', headers: { authorization: 'Bearer pk_two' }, req: { headers: { authorization: 'Bearer pk_three' } }, a: { req: { headers: { authorization: 'Bearer pk_four' } } } }, 'request');
    expect(out).not.toMatch(/pk_/);
    expect(out.match(/\[redacted\]/g)).toHaveLength(4);
  });
});
