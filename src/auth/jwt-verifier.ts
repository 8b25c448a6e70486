import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
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

async function keysFrom(jwks: JwtSettings['jwks']): Promise<JWTVerifyGetKey> {
  if ('url' in jwks) return createRemoteJWKSet(new URL(jwks.url), REMOTE);
  let text: string;
  try {
    text = await readFile(jwks.file, 'utf8');
  } catch (error) {
    throw new JwtSetupError(`cannot read the JWKS file ${jwks.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return createLocalJWKSet(JSON.parse(text) as Parameters<typeof createLocalJWKSet>[0]);
  } catch {
    throw new JwtSetupError(`the JWKS file ${jwks.file} is not a JSON Web Key Set ({"keys": [...]}, public keys of the identity provider)`);
  }
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
