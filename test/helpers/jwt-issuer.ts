import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export const ISSUER = 'https://idp.example.test/';
export const AUDIENCE = 'pinak-memory';

/** A local stand-in for an identity provider: a signing key, its JWKS in a file, and tokens on demand. */
export interface TestIssuer {
  jwksFile: string;
  /** A signed token with these claims (iss, aud, sub, iat and a 10-minute exp unless overridden; null drops a claim, exp included). */
  sign(claims?: Record<string, unknown>, options?: { key?: 'trusted' | 'stranger'; expiresIn?: string | number }): Promise<string>;
}

/** Key pairs are generated locally; nothing touches the network. */
export async function testIssuer(dir: string): Promise<TestIssuer> {
  const trusted = await generateKeyPair('ES256', { extractable: true });
  const stranger = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(trusted.publicKey)), kid: 'test-key-1', alg: 'ES256', use: 'sig' };
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return {
    jwksFile,
    async sign(claims = {}, options = {}) {
      const key: CryptoKey = options.key === 'stranger' ? stranger.privateKey : trusted.privateKey;
      const all: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', ...claims };
      const payload = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== null)) as JWTPayload;
      const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'test-key-1' }).setIssuedAt();
      // exp given among the claims (or null: none at all) wins over expiresIn.
      if (!('exp' in all)) jwt.setExpirationTime(options.expiresIn ?? '10m');
      return jwt.sign(key);
    },
  };
}
