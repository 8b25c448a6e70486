import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LOCAL_PRINCIPAL, type Principal } from '../../domain/principal.js';
import type { Runtime } from '../../runtime.js';
import type { BatchRefusal } from './call-limit.js';

type Logger = Runtime['logger'];

/** One client's MCP session over HTTP, whichever transport carries it. */
export interface HttpSession {
  readonly id: string;
  readonly kind: 'streamable' | 'sse';
  /** Who opened it: only the same principal may use it. */
  readonly principal: Principal;
  /** The SDK transport of that kind (StreamableHTTPServerTransport or SSEServerTransport). */
  readonly transport: Transport;
  /** Requests received and not yet answered: a busy session never expires. */
  readonly inFlight: number;
  /** Check one HTTP request's messages before they reach the session (see CallLimitedTransport.admit). */
  admitBatch(body: unknown): { refusal: BatchRefusal; release: () => void };
  /** Close the MCP server and its transport; the registry forgets the session. */
  close(): Promise<void>;
}

const samePrincipal = (a: Principal, b: Principal): boolean =>
  a.id === b.id && a.tenant === b.tenant && a.role === b.role && JSON.stringify(a.namespaces) === JSON.stringify(b.namespaces);

/** A place held for a session being created, so concurrent creations cannot overshoot the limit. */
export interface Reservation {
  commit(session: HttpSession): void;
  release(): void;
}

/** Add `delta` to a count in a map, forgetting counts that reach zero. */
function bump(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

/**
 * The open HTTP sessions: at most `maxSessions` of them (counting those being
 * created), at most `maxPerKey` of one key and `maxPerTenant` of one tenant
 * (so neither one key nor the keys of one tenant can lock the others out),
 * and each closed after `idleMs` without a request.
 */
export class SessionRegistry {
  /** `expiresAt`: when the latest credential the session was used with expires (ms), or null for never. */
  private readonly sessions = new Map<string, { session: HttpSession; lastActive: number; expiresAt: number | null }>();
  private reserved = 0;
  /** Places held per principal id, for the per-key cap. */
  private readonly reservedBy = new Map<string, number>();
  /** Places held per tenant, for the per-tenant cap. */
  private readonly reservedIn = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly maxSessions: number,
    private readonly idleMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** Most sessions one key (or token subject) may hold; the local principal is not capped. */
    readonly maxPerKey: number = Number.POSITIVE_INFINITY,
    /** Most sessions the keys and tokens of one tenant may hold together; the local principal is not capped. */
    readonly maxPerTenant: number = Number.POSITIVE_INFINITY,
  ) {
    this.sweeper = setInterval(() => this.expireIdle(), Math.min(30_000, Math.max(100, Math.floor(idleMs / 4))));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Open sessions of each transport. */
  counts(): Record<HttpSession['kind'], number> {
    const counts = { streamable: 0, sse: 0 };
    for (const { session } of this.sessions.values()) counts[session.kind] += 1;
    return counts;
  }

  /** Whether this principal already holds (or is opening) as many sessions as one key may. */
  keyAtLimit(principal: Principal): boolean {
    if (principal.id === LOCAL_PRINCIPAL.id) return false;
    let held = this.reservedBy.get(principal.id) ?? 0;
    for (const { session } of this.sessions.values()) if (session.principal.id === principal.id) held += 1;
    return held >= this.maxPerKey;
  }

  /** Whether this principal's tenant already holds (or is opening) as many sessions as one tenant may. */
  tenantAtLimit(principal: Principal): boolean {
    if (principal.id === LOCAL_PRINCIPAL.id) return false;
    let held = this.reservedIn.get(principal.tenant) ?? 0;
    for (const { session } of this.sessions.values()) if (session.principal.id !== LOCAL_PRINCIPAL.id && session.principal.tenant === principal.tenant) held += 1;
    return held >= this.maxPerTenant;
  }

  /** Hold a place for a new session of this principal; null when the server's limit is reached. */
  reserve(principal?: Principal): Reservation | null {
    if (this.sessions.size + this.reserved >= this.maxSessions) return null;
    const holder = principal?.id;
    // The local principal's sessions count against the server's limit only.
    const tenant = principal && principal.id !== LOCAL_PRINCIPAL.id ? principal.tenant : undefined;
    this.reserved += 1;
    if (holder !== undefined) bump(this.reservedBy, holder, 1);
    if (tenant !== undefined) bump(this.reservedIn, tenant, 1);
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.reserved -= 1;
      if (holder !== undefined) bump(this.reservedBy, holder, -1);
      if (tenant !== undefined) bump(this.reservedIn, tenant, -1);
      return true;
    };
    return {
      commit: (session) => {
        if (!settle()) return;
        this.sessions.set(session.id, { session, lastActive: this.now(), expiresAt: session.principal.expiresAt ?? null });
        this.logger.info({ session: session.id, transport: session.kind, keyId: session.principal.id, tenant: session.principal.tenant, sessions: this.sessions.size }, 'HTTP session opened');
      },
      release: () => void settle(),
    };
  }

  /** The session with this id and kind, opened by this principal, marked active; undefined if there is none. */
  use(id: string, kind: HttpSession['kind'], principal: Principal): HttpSession | undefined {
    const entry = this.sessions.get(id);
    // Another key's session is as good as none: a session id is not a credential. A token of the same
    // subject with another tenant, role or namespaces is another principal too: its rights are not the session's.
    if (!entry || entry.session.kind !== kind || !samePrincipal(entry.session.principal, principal)) return undefined;
    entry.lastActive = this.now();
    // A client that renews its token keeps its session until the newest one expires.
    const expiresAt = principal.expiresAt ?? null;
    if (entry.expiresAt !== null && (expiresAt === null || expiresAt > entry.expiresAt)) entry.expiresAt = expiresAt;
    return entry.session;
  }

  /** Forget a session (its transport closed). */
  remove(id: string, reason: string): void {
    if (this.sessions.delete(id)) this.logger.info({ session: id, reason, sessions: this.sessions.size }, 'HTTP session closed');
  }

  /** Close sessions that have had no request for the idle time and have none in flight. */
  expireIdle(): void {
    const cutoff = this.now() - this.idleMs;
    for (const [id, entry] of this.sessions) {
      if (entry.session.inFlight > 0) entry.lastActive = this.now();
      else if (entry.lastActive <= cutoff) void this.closeOne(id, entry.session, 'idle');
    }
  }

  /** The ids of the open sessions of one transport. */
  idsOf(kind: HttpSession['kind']): string[] {
    return [...this.sessions.values()].filter((entry) => entry.session.kind === kind).map((entry) => entry.session.id);
  }

  /** The principals holding open sessions, one entry per principal id. */
  principals(): Principal[] {
    const byId = new Map<string, Principal>();
    for (const { session } of this.sessions.values()) byId.set(session.principal.id, session.principal);
    return [...byId.values()];
  }

  /** Close the sessions of these principal ids (their credentials stopped being valid); returns how many. */
  closeOf(principalIds: ReadonlySet<string>, reason: string): Promise<number> {
    const doomed = [...this.sessions].filter(([, entry]) => principalIds.has(entry.session.principal.id));
    return Promise.all(doomed.map(([id, entry]) => this.closeOne(id, entry.session, reason))).then(() => doomed.length);
  }

  /** Close the sessions whose credentials have expired (`now` in ms since the epoch); returns how many. */
  closeExpired(now: number): Promise<number> {
    const doomed = [...this.sessions].filter(([, entry]) => entry.expiresAt !== null && entry.expiresAt <= now);
    return Promise.all(doomed.map(([id, entry]) => this.closeOne(id, entry.session, 'credentials expired'))).then(() => doomed.length);
  }

  /** Close every session (shutdown) and stop expiring. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions].map(([id, entry]) => this.closeOne(id, entry.session, 'shutdown')));
  }

  private async closeOne(id: string, session: HttpSession, reason: string): Promise<void> {
    this.remove(id, reason);
    try {
      await session.close();
    } catch (error) {
      this.logger.warn({ session: id, err: error }, 'HTTP session did not close cleanly');
    }
  }
}
