import type { Logger } from '../logging.js';
import type { Principal } from '../domain/principal.js';
import { LOCAL_PRINCIPAL } from '../domain/principal.js';
import type { JwtVerifier, TokenRefusalCode } from './jwt-verifier.js';
import { TOKEN_PRINCIPAL_PREFIX } from './jwt-claims.js';
import { bearerToken } from './key-format.js';
import type { KeyStore } from './key-store.js';

/** auto: keys are required once one exists; keys: always required. */
export type AuthMode = 'auto' | 'keys';

export type AuthRefusal = {
  ok: false;
  /** For the audit row. */
  code: 'no_key' | 'bad_header' | 'unknown_key' | 'revoked_key' | 'expired_key' | TokenRefusalCode;
  /** What the client is told: never the key or token. */
  message: string;
  /** Known for a revoked or expired key, and a signed token's subject. */
  keyId: string | null;
  tenant: string | null;
};

export type AuthResult = { ok: true; principal: Principal } | AuthRefusal;

/** How often a key's last-used time is written (it is a write to a shared file). */
const TOUCH_EVERY_MS = 60_000;

/**
 * Turns a request's Authorization header into a principal. Each request is
 * checked against the key store (one indexed read), so a revoked key is
 * refused from its next request, in every process sharing the store. With an
 * identity provider configured, a bearer value that is not one of our `pk_`
 * keys is checked as a JWT.
 */
export class Authenticator {
  private keysExist = false;
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: KeyStore,
    private readonly mode: AuthMode,
    private readonly logger: Logger,
    private readonly tokens: JwtVerifier | null = null,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether requests must carry a key: always with mode "keys" or tokens accepted, else once any key exists (and from then on). */
  async required(): Promise<boolean> {
    if (this.mode === 'keys' || this.tokens !== null || this.keysExist) return true;
    this.keysExist = await this.keys.any();
    return this.keysExist;
  }

  async authenticate(header: string | string[] | undefined, remoteAddress: string | null): Promise<AuthResult> {
    if (!(await this.required())) return { ok: true, principal: { ...LOCAL_PRINCIPAL, remoteAddress } };
    const token = bearerToken(header);
    const refuse = (code: AuthRefusal['code'], message: string, key?: { id: string | null; tenant: string | null }): AuthRefusal => ({
      ok: false,
      code,
      message: `Unauthorized: ${message}`,
      keyId: key?.id ?? null,
      tenant: key?.tenant ?? null,
    });
    const what = this.tokens ? 'an API key or a bearer token from its identity provider' : 'an API key';
    if (token === null) return refuse('no_key', `this server requires ${what}; send it as "Authorization: Bearer <key>" (an operator creates keys with pinak-memory keys create)`);
    if (token === '') return refuse('bad_header', 'the Authorization header must be "Bearer <key>"');
    if (this.tokens && !token.startsWith('pk_')) {
      const checked = await this.tokens.verify(token);
      if (!checked.ok) return refuse(checked.code, checked.message, { id: checked.subject, tenant: checked.tenant });
      return { ok: true, principal: { ...checked.principal, remoteAddress } };
    }
    const now = this.now();
    const check = await this.keys.check(token, now);
    if (!check.ok) {
      if (check.reason === 'revoked') return refuse('revoked_key', 'the API key was revoked; ask for a new one', check.key);
      if (check.reason === 'expired') return refuse('expired_key', `the API key expired at ${check.key?.expires_at ?? 'an earlier time'}; ask for a new one`, check.key);
      return refuse('unknown_key', 'the API key is not valid');
    }
    const { key } = check;
    this.touch(key.id, now);
    const expiresAt = key.expires_at === null ? null : Date.parse(key.expires_at);
    return { ok: true, principal: { id: key.id, tenant: key.tenant, role: key.role, namespaces: key.namespaces, remoteAddress, expiresAt } };
  }

  /**
   * Of these principals (those holding sessions), the ids of API keys no
   * longer valid: revoked (by any process sharing the key store), expired or
   * gone. Tokens expire by their own time (see SessionRegistry.closeExpired).
   */
  async invalidKeys(principals: readonly Principal[]): Promise<Set<string>> {
    const keyIds = principals.filter((p) => p.id !== LOCAL_PRINCIPAL.id && !p.id.startsWith(TOKEN_PRINCIPAL_PREFIX)).map((p) => p.id);
    return new Set(await this.keys.invalid(keyIds, this.now()));
  }

  private touch(id: string, now: Date): void {
    const last = this.touched.get(id) ?? 0;
    if (now.getTime() - last < TOUCH_EVERY_MS) return;
    this.touched.set(id, now.getTime());
    // Only bookkeeping, not waited for: a busy key store must not refuse (or slow) a valid key.
    this.keys.touch(id, now.toISOString()).catch((error: unknown) => {
      this.logger.warn({ err: error, keyId: id }, 'could not record when a key was last used');
    });
  }

  close(): Promise<void> {
    return this.keys.close();
  }
}
