import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Principal } from '../domain/principal.js';
import type { Logger } from '../logging.js';
import { principalFromClaims, subjectOf, tenantClaim, type ClaimNames } from './jwt-claims.js';

/** How bearer tokens from an identity provider are checked and read. */
export interface JwtSettings {
  /** The `iss` every token must carry. */
  issuer: string;
  /** An `aud` every token must carry (one of its audiences). */
  audience: string;
  /** The provider's public keys: a JWKS file read at start, or a URL fetched (and cached) when needed. */
  jwks: { file: string } | { url: string };
  claims: ClaimNames;
  /** Let tokens name the tenant `local` (default: refused). */
  allowLocalTenant?: boolean;
}

/** A JWKS that cannot be used: the server does not start. */
export class JwtSetupError extends Error {
  override readonly name = 'JwtSetupError';
}

export type TokenRefusalCode = 'expired_token' | 'wrong_issuer' | 'wrong_audience' | 'bad_signature' | 'invalid_token' | 'bad_claims' | 'jwks_unavailable';

export type TokenCheck =
  | { ok: true; principal: Omit<Principal, 'remoteAddress'> }
  /** `subject` and `tenant` only from a token whose signature was verified. */
  | { ok: false; code: TokenRefusalCode; message: string; subject: string | null; tenant: string | null };

/** Asymmetric signatures only: a shared secret in a JWKS would let anyone holding it mint tokens. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** Clock skew allowed between this machine and the identity provider. */
const CLOCK_TOLERANCE_SECONDS = 30;
const REMOTE = { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 };

/** JWK members that only a private or a symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; `priv` of AKP keys). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** Whether jose would check a token of some accepted algorithm with this one key. */
async function usable(jwk: JWK): Promise<boolean> {
  const single = createLocalJWKSet({ keys: [jwk] });
  for (const alg of ALGORITHMS) {
    try {
      const key = await single({ alg });
      // jose refuses RSA keys under 2048 bits only when a token is checked.
      const { modulusLength } = key.algorithm as { modulusLength?: number };
      if (modulusLength === undefined || modulusLength >= 2048) return true;
    } catch {
      // not a key for this algorithm
    }
  }
  return false;
}

/**
 * A JWKS file's keys, refused at start when the server could never check a
 * token with them (no key of an accepted algorithm and use) or when the file
 * holds private key material, which belongs only with the identity provider.
 */
async function localKeys(file: string, text: string): Promise<LocalSet> {
  let set: LocalSet;
  try {
    set = createLocalJWKSet(JSON.parse(text) as Parameters<typeof createLocalJWKSet>[0]);
  } catch {
    throw new JwtSetupError(`the JWKS file ${file} is not a JSON Web Key Set ({"keys": [...]}, public keys of the identity provider)`);
  }
  const keys = set.jwks().keys;
  for (const [i, jwk] of keys.entries()) {
    const member = PRIVATE_MEMBERS.find((name) => Object.hasOwn(jwk, name));
    if (member !== undefined) {
      const which = typeof jwk.kid === 'string' ? `key ${JSON.stringify(jwk.kid.slice(0, 100))}` : `key ${i + 1}`;
      throw new JwtSetupError(`the JWKS file ${file} holds private or secret key material ("${member}" in ${which}): give the server only the identity provider's public keys, and replace any key whose private or secret part was exposed`);
    }
  }
  if (!(await Promise.all(keys.map(usable))).some(Boolean)) {
    throw new JwtSetupError(
      `the JWKS file ${file} has no public key that can check tokens: ${keys.length === 0 ? 'its "keys" list is empty' : 'expected an RSA (2048 bits or more), EC (P-256, P-384, P-521) or Ed25519 signing key ("use" "sig" or none; "alg" RS*, PS*, ES*, EdDSA or none)'}`,
    );
  }
  return set;
}

async function keysFrom(jwks: JwtSettings['jwks']): Promise<JWTVerifyGetKey> {
  // Fetched when the first token needs it, not at start: jose then checks the set as it does a file's when verifying.
  if ('url' in jwks) return createRemoteJWKSet(new URL(jwks.url), REMOTE);
  let text: string;
  try {
    text = await readFile(jwks.file, 'utf8');
  } catch (error) {
    throw new JwtSetupError(`cannot read the JWKS file ${jwks.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return localKeys(jwks.file, text);
}

/**
 * Checks bearer tokens (JWTs) signed by an identity provider: signature by a
 * key of its JWKS, issuer, audience, expiry (required) and not-before, then
 * maps the claims to a principal. Messages say what was wrong, never the token.
 */
export class JwtVerifier {
  private constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly settings: JwtSettings,
    private readonly logger: Logger,
  ) {}

  static async open(settings: JwtSettings, logger: Logger): Promise<JwtVerifier> {
    return new JwtVerifier(await keysFrom(settings.jwks), settings, logger);
  }

  async verify(token: string): Promise<TokenCheck> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      return this.refusal(error);
    }
    const mapped = principalFromClaims(payload, this.settings.claims, { allowLocalTenant: this.settings.allowLocalTenant === true });
    // exp is required above: sessions opened with the token close when it expires.
    if (mapped.ok) return { ok: true, principal: { ...mapped.principal, expiresAt: (payload.exp ?? 0) * 1000 } };
    return { ok: false, code: 'bad_claims', message: mapped.message, subject: subjectOf(payload), tenant: tenantClaim(payload, this.settings.claims) };
  }

  private refusal(error: unknown): TokenCheck {
    const refuse = (code: TokenRefusalCode, message: string, payload?: JWTPayload): TokenCheck => ({
      ok: false,
      code,
      message,
      subject: payload ? subjectOf(payload) : null,
      tenant: payload ? tenantClaim(payload, this.settings.claims) : null,
    });
    // Claim errors come after the signature was verified: their payload can be trusted for the audit row.
    if (error instanceof errors.JWTExpired) return refuse('expired_token', 'the bearer token has expired; get a new one from the identity provider', error.payload);
    if (error instanceof errors.JWTClaimValidationFailed) {
      const { claim, reason, payload } = error;
      if (claim === 'iss') return refuse('wrong_issuer', 'the bearer token was not issued by the identity provider this server trusts (iss claim)', payload);
      if (claim === 'aud') return refuse('wrong_audience', 'the bearer token is not meant for this server (aud claim)', payload);
      if (claim === 'nbf') return refuse('invalid_token', 'the bearer token is not valid yet (nbf claim)', payload);
      if (reason === 'missing') return refuse('bad_claims', `the bearer token has no "${claim}" claim`, payload);
      return refuse('invalid_token', `the bearer token's "${claim}" claim is not valid`, payload);
    }
    if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
      return refuse('bad_signature', 'the bearer token is not signed by a key of the identity provider this server trusts');
    }
    const remote = 'url' in this.settings.jwks;
    if (error instanceof errors.JWKSTimeout || (remote && (error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)))) {
      this.logger.error({ err: error }, 'the identity provider\'s keys (JWKS) could not be fetched; bearer tokens are refused until they can');
      return refuse('jwks_unavailable', 'the bearer token could not be checked: the identity provider\'s keys are unavailable; retry later');
    }
    if (!(error instanceof errors.JOSEError)) this.logger.warn({ err: error }, 'unexpected failure while checking a bearer token');
    return refuse('invalid_token', 'the bearer token is not a valid signed JWT');
  }
}
