import type { Logger } from '../logging.js';
import type { Principal } from '../domain/principal.js';
import { LOCAL_PRINCIPAL } from '../domain/principal.js';
import { bearerToken } from './key-format.js';
import type { KeyStore } from './key-store.js';

/** auto: keys are required once one exists; keys: always required. */
export type AuthMode = 'auto' | 'keys';

export type AuthRefusal = {
  ok: false;
  /** For the audit row. */
  code: 'no_key' | 'bad_header' | 'unknown_key' | 'revoked_key' | 'expired_key';
  /** What the client is told: never the key. */
  message: string;
  /** Known for a revoked or expired key. */
  keyId: string | null;
  tenant: string | null;
};

export type AuthResult = { ok: true; principal: Principal } | AuthRefusal;

/** How often a key's last-used time is written (it is a write to a shared file). */
const TOUCH_EVERY_MS = 60_000;

/**
 * Turns a request's Authorization header into a principal. Each request is
 * checked against the key store (one indexed read), so a revoked key is
 * refused from its next request, in every process sharing the store.
 */
export class Authenticator {
  private keysExist = false;
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: KeyStore,
    private readonly mode: AuthMode,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether requests must carry a key: always with mode "keys", else once any key exists (and from then on). */
  required(): boolean {
    if (this.mode === 'keys' || this.keysExist) return true;
    this.keysExist = this.keys.any();
    return this.keysExist;
  }

  authenticate(header: string | string[] | undefined, remoteAddress: string | null): AuthResult {
    if (!this.required()) return { ok: true, principal: { ...LOCAL_PRINCIPAL, remoteAddress } };
    const token = bearerToken(header);
    const refuse = (code: AuthRefusal['code'], message: string, key?: { id: string; tenant: string }): AuthRefusal => ({
      ok: false,
      code,
      message: `Unauthorized: ${message}`,
      keyId: key?.id ?? null,
      tenant: key?.tenant ?? null,
    });
    if (token === null) return refuse('no_key', 'this server requires an API key; send it as "Authorization: Bearer <key>" (an operator creates keys with pinak-memory keys create)');
    if (token === '') return refuse('bad_header', 'the Authorization header must be "Bearer <key>"');
    const now = this.now();
    const check = this.keys.check(token, now);
    if (!check.ok) {
      if (check.reason === 'revoked') return refuse('revoked_key', 'the API key was revoked; ask for a new one', check.key);
      if (check.reason === 'expired') return refuse('expired_key', `the API key expired at ${check.key?.expires_at ?? 'an earlier time'}; ask for a new one`, check.key);
      return refuse('unknown_key', 'the API key is not valid');
    }
    const { key } = check;
    this.touch(key.id, now);
    return { ok: true, principal: { id: key.id, tenant: key.tenant, role: key.role, namespaces: key.namespaces, remoteAddress } };
  }

  private touch(id: string, now: Date): void {
    const last = this.touched.get(id) ?? 0;
    if (now.getTime() - last < TOUCH_EVERY_MS) return;
    this.touched.set(id, now.getTime());
    try {
      this.keys.touch(id, now.toISOString());
    } catch (error) {
      // Only bookkeeping: a busy key store must not refuse a valid key.
      this.logger.warn({ err: error, keyId: id }, 'could not record when a key was last used');
    }
  }

  close(): void {
    this.keys.close();
  }
}
