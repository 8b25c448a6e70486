import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A browser's session: before sign-in it only carries the CSRF token of the sign-in form. */
export interface UiSession {
  readonly id: string;
  /** The synchronizer token every form of this session carries. */
  readonly csrf: string;
  /**
   * How requests of this session authenticate: the API key or bearer token
   * signed in with (checked again on every request, so a revoked key ends
   * the session at once), "local" for a sign-in by a one-time local link
   * (valid while the server requires no key), or null before sign-in.
   */
  readonly credential: { kind: 'bearer'; value: string } | { kind: 'local' } | null;
  /** The session's id in the audit trail: not the cookie, which must never be written anywhere. */
  readonly auditId: string;
  lastSeen: number;
}

const token = (): string => randomBytes(32).toString('base64url');

/** Compare two secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

/** Where the memory browser's sessions are kept: this process's memory, or the file every worker shares (sqlite-sessions.ts). */
export interface UiSessionStore {
  /** A new session; the id returned is what the cookie carries. */
  create(credential?: UiSession['credential'], auditId?: string): UiSession;
  /** The session this cookie value names, if it is still alive. */
  get(id: string | undefined): UiSession | null;
  /** Signed in: a new session (new id and CSRF token), the old one gone. */
  signIn(previous: UiSession | null, credential: NonNullable<UiSession['credential']>): UiSession;
  end(session: UiSession): void;
  /** A one-time sign-in token for the local user, valid for `ttlMs`. */
  issueLocalToken(ttlMs: number): string;
  /** Spend a one-time token: true once, if it was issued and has not expired. */
  spendLocalToken(value: string): boolean;
}

export const newUiToken = (): string => token();
export const uiSessionKey = (id: string): string => createHash('sha256').update(id).digest('base64url');

/**
 * The memory browser's sessions, in this process's memory (a restart signs
 * everyone out). Bounded: at most `max` sessions, the least recently seen
 * dropped first (anonymous ones before signed-in ones); idle ones expire.
 * The cookie holds a random id, the map key is its hash, so a heap dump or
 * log of the keys does not give a usable cookie.
 */
export class UiSessions implements UiSessionStore {
  private readonly sessions = new Map<string, UiSession>();
  /** One-time local sign-in tokens (hashed) and when each expires. */
  private readonly localTokens = new Map<string, number>();

  constructor(
    private readonly idleMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  private static key(id: string): string {
    return createHash('sha256').update(id).digest('base64url');
  }

  /** A new session; the id returned is what the cookie carries. */
  create(credential: UiSession['credential'] = null, auditId = `ui-${randomBytes(12).toString('hex')}`): UiSession {
    this.expire();
    while (this.sessions.size >= this.max) {
      const victims = [...this.sessions.entries()].sort(([, a], [, b]) => Number(a.credential !== null) - Number(b.credential !== null) || a.lastSeen - b.lastSeen);
      this.sessions.delete(victims[0]![0]);
    }
    const session: UiSession = { id: token(), csrf: token(), credential, auditId, lastSeen: this.now() };
    this.sessions.set(UiSessions.key(session.id), session);
    return session;
  }

  /** The session this cookie value names, if it is still alive. */
  get(id: string | undefined): UiSession | null {
    if (!id || id.length > 100) return null;
    const key = UiSessions.key(id);
    const session = this.sessions.get(key);
    if (!session) return null;
    if (this.now() - session.lastSeen > this.idleMs) {
      this.sessions.delete(key);
      return null;
    }
    session.lastSeen = this.now();
    return session;
  }

  /** Signed in: a new session (new id and CSRF token, so an id planted before sign-in is worth nothing), the old one gone. */
  signIn(previous: UiSession | null, credential: NonNullable<UiSession['credential']>): UiSession {
    if (previous) this.end(previous);
    return this.create(credential);
  }

  end(session: UiSession): void {
    this.sessions.delete(UiSessions.key(session.id));
  }

  /** A one-time sign-in token for the local user, valid for `ttlMs`. */
  issueLocalToken(ttlMs: number): string {
    const value = token();
    this.localTokens.set(UiSessions.key(value), this.now() + ttlMs);
    return value;
  }

  /** Spend a one-time token: true once, if it was issued and has not expired. */
  spendLocalToken(value: string): boolean {
    if (value.length > 100) return false;
    const key = UiSessions.key(value);
    const until = this.localTokens.get(key);
    this.localTokens.delete(key);
    return until !== undefined && this.now() <= until;
  }

  /** Sessions that hold this credential kind, for tests and counts. */
  get size(): number {
    return this.sessions.size;
  }

  private expire(): void {
    const now = this.now();
    for (const [key, session] of this.sessions) if (now - session.lastSeen > this.idleMs) this.sessions.delete(key);
    for (const [key, until] of this.localTokens) if (now > until) this.localTokens.delete(key);
  }
}
