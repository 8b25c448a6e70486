import { UnsecuredJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/auth/authenticator.js';
import { claimAt, principalFromClaims } from '../../src/auth/jwt-claims.js';
import { SqliteKeyStore } from '../../src/auth/sqlite-key-store.js';
import { JwtSetupError, JwtVerifier, type JwtSettings } from '../../src/auth/jwt-verifier.js';
import { createLogger } from '../../src/logging.js';
import { AUDIENCE, ISSUER, testIssuer } from '../helpers/jwt-issuer.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
const tempDir = (): string => {
  const { dir, cleanup } = makeTempDir('pinak-jwt-');
  cleanups.push(cleanup);
  return dir;
};
const NAMES = { tenant: 'tenant', role: 'role', namespaces: null };

describe('token claims', () => {
  it('map sub, tenant and role to a principal; roles may be a list; claim names may be URLs or dotted paths', () => {
    expect(principalFromClaims({ sub: 'u1', tenant: 'acme', role: 'writer' }, NAMES)).toEqual({ ok: true, principal: { id: 'jwt:u1', tenant: 'acme', role: 'writer', namespaces: null } });
    expect(principalFromClaims({ sub: 'u1', tenant: 'acme', role: ['viewer', 'admin', 'reader'] }, NAMES)).toMatchObject({ ok: true, principal: { role: 'admin' } });
    const nested = { sub: 'u1', 'https://example.test/tenant': 'acme', realm_access: { roles: ['offline', 'reader'] } };
    expect(principalFromClaims(nested, { tenant: 'https://example.test/tenant', role: 'realm_access.roles', namespaces: null })).toMatchObject({ ok: true, principal: { tenant: 'acme', role: 'reader' } });
    expect(claimAt({ a: { b: 1 } }, 'a.c')).toBeUndefined();
    expect(claimAt({ a: [1] }, 'a.0')).toBeUndefined();
  });

  it('refuse a missing or invalid subject, tenant or role, naming the claim but not its value', () => {
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ tenant: 'acme', role: 'reader' }, /no usable subject/],
      [{ sub: '', tenant: 'acme', role: 'reader' }, /no usable subject/],
      [{ sub: 'u\n1', tenant: 'acme', role: 'reader' }, /no usable subject/],
      [{ sub: 'u1', role: 'reader' }, /"tenant" claim must name a tenant/],
      [{ sub: 'u1', tenant: 'Acme Corp', role: 'reader' }, /"tenant" claim must name a tenant/],
      [{ sub: 'u1', tenant: '../etc', role: 'reader' }, /"tenant" claim/],
      [{ sub: 'u1', tenant: 'acme' }, /"role" claim must name a role: reader, writer, admin/],
      [{ sub: 'u1', tenant: 'acme', role: 'root' }, /"role" claim/],
      [{ sub: 'u1', tenant: 'acme', role: ['root', 7] }, /"role" claim/],
    ];
    for (const [claims, message] of refused) {
      const result = principalFromClaims(claims, NAMES);
      expect(result.ok, JSON.stringify(claims)).toBe(false);
      if (!result.ok) {
        expect(result.message).toMatch(message);
        expect(result.message).not.toMatch(/Acme Corp|root|\.\.\/etc/);
      }
    }
  });

  it('read a namespaces claim, when configured, as a list, a comma or space separated string, or "*"; a token without it is refused', () => {
    const names = { ...NAMES, namespaces: 'ns' };
    const base = { sub: 'u1', tenant: 'acme', role: 'reader' };
    expect(principalFromClaims({ ...base, ns: ['a', 'b', 'a'] }, names)).toMatchObject({ ok: true, principal: { namespaces: ['a', 'b'] } });
    expect(principalFromClaims({ ...base, ns: 'a, b c' }, names)).toMatchObject({ ok: true, principal: { namespaces: ['a', 'b', 'c'] } });
    expect(principalFromClaims({ ...base, ns: '*' }, names)).toMatchObject({ ok: true, principal: { namespaces: null } });
    for (const bad of [undefined, '', [], ['a', '*'], ['bad name!'], [1], { a: 1 }]) {
      expect(principalFromClaims({ ...base, ns: bad }, names), JSON.stringify(bad)).toMatchObject({ ok: false, message: expect.stringMatching(/"ns" claim must list namespaces/) });
    }
  });
});

describe('JwtVerifier', () => {
  const logger = createLogger('silent');
  const settings = (jwksFile: string): JwtSettings => ({ issuer: ISSUER, audience: AUDIENCE, jwks: { file: jwksFile }, claims: NAMES });

  it('accepts a token signed by a key of the JWKS, and tells each kind of bad token apart', async () => {
    const issuer = await testIssuer(tempDir());
    const verifier = await JwtVerifier.open(settings(issuer.jwksFile), logger);
    const claims = { tenant: 'acme', role: 'writer' };
    expect(await verifier.verify(await issuer.sign(claims))).toEqual({ ok: true, principal: { id: 'jwt:user-1', tenant: 'acme', role: 'writer', namespaces: null, expiresAt: expect.any(Number) } });
    const cases: Array<[string, string, string | null]> = [
      [await issuer.sign({ ...claims, aud: 'someone-else' }), 'wrong_audience', 'jwt:user-1'],
      [await issuer.sign({ ...claims, iss: 'https://evil.example.test/' }), 'wrong_issuer', 'jwt:user-1'],
      [await issuer.sign(claims, { expiresIn: Math.floor(Date.now() / 1000) - 120 }), 'expired_token', 'jwt:user-1'],
      [await issuer.sign({ ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 }), 'invalid_token', 'jwt:user-1'],
      [await issuer.sign(claims, { key: 'stranger' }), 'bad_signature', null],
      [new UnsecuredJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'x', ...claims }).setExpirationTime('5m').encode(), 'invalid_token', null],
      [await issuer.sign({ ...claims, exp: null }), 'bad_claims', 'jwt:user-1'],
      [await issuer.sign({ role: 'writer' }), 'bad_claims', 'jwt:user-1'],
      [await issuer.sign({ ...claims, role: 'owner' }), 'bad_claims', 'jwt:user-1'],
      ['not.a.jwt', 'invalid_token', null],
      ['x', 'invalid_token', null],
    ];
    for (const [token, code, subject] of cases) {
      const result = await verifier.verify(token);
      expect(result, code).toMatchObject({ ok: false, code, subject });
      if (!result.ok) expect(result.message).not.toContain(token.slice(0, 20));
    }
    expect(((await verifier.verify(await issuer.sign({ ...claims, aud: 'x' }))) as { tenant: string }).tenant).toBe('acme');
  });

  it('makes authentication required (so any address may be bound), and is tried only for bearer values that are not pk_ keys', async () => {
    const dir = tempDir();
    const issuer = await testIssuer(dir);
    const keys = SqliteKeyStore.open(`${dir}/keys.db`, 1000);
    const verifier = await JwtVerifier.open(settings(issuer.jwksFile), logger);
    const withTokens = new Authenticator(keys, 'auto', logger, verifier);
    expect([await new Authenticator(keys, 'auto', logger).required(), await withTokens.required()]).toEqual([false, true]);
    expect(await withTokens.authenticate(`Bearer ${await issuer.sign({ tenant: 'acme', role: 'reader' })}`, '127.0.0.1')).toMatchObject({ ok: true, principal: { id: 'jwt:user-1', remoteAddress: '127.0.0.1' } });
    expect(await withTokens.authenticate(`Bearer pk_${'a'.repeat(43)}`, null)).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(await withTokens.authenticate('Bearer pk_short', null)).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(await withTokens.authenticate('Bearer abc', null)).toMatchObject({ ok: false, code: 'invalid_token' });
    await keys.close();
  });

  it('refuses to start on a JWKS file that is missing or not a key set', async () => {
    const dir = tempDir();
    await expect(JwtVerifier.open(settings(`${dir}/missing.json`), logger)).rejects.toThrow(JwtSetupError);
    await expect(JwtVerifier.open(settings(`${dir}/missing.json`), logger)).rejects.toThrow(/^cannot read the JWKS file .*missing\.json: ENOENT$/);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/bad.json`, '{"not":"keys"}');
    await expect(JwtVerifier.open(settings(`${dir}/bad.json`), logger)).rejects.toThrow(/is not a JSON Web Key Set/);
  });
});
