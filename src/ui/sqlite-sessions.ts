import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { newUiToken, uiSessionKey, type UiSession, type UiSessionStore } from './sessions.js';

/** A session's last sight is written at most this often (a browser's page loads cost a read, not a write each). */
const TOUCH_EVERY_MS = 5000;

interface Sealed {
  csrf: string;
  credential: UiSession['credential'];
  auditId: string;
}

/**
 * The memory browser's sessions in the shared file of the processes serving
 * one data directory, so that a browser signed in through one worker is
 * signed in on every other. A row is keyed by a hash of the cookie (as in
 * memory), and what it holds (the CSRF token, the API key or token signed in
 * with, the audit id) is sealed with AES-256-GCM under a key that lives only
 * in the serving processes' memory, given to each by the primary: the file
 * on disk holds no usable credential, and a restart of the whole server
 * signs every browser out, as with sessions in memory. Bounded and expired
 * as UiSessions.
 */
export class SqliteUiSessions implements UiSessionStore {
  constructor(
    private readonly db: Database.Database,
    private readonly sealKey: Buffer,
    private readonly idleMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {
    if (sealKey.length !== 32) throw new Error('the sessions\' sealing key must be 32 bytes');
  }

  create(credential: UiSession['credential'] = null, auditId = `ui-${randomBytes(12).toString('hex')}`): UiSession {
    const now = this.now();
    const session: UiSession = { id: newUiToken(), csrf: newUiToken(), credential, auditId, lastSeen: now };
    this.db
      .transaction(() => {
        this.expire(now);
        const { n } = this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM ui_sessions').get()!;
        // Over the bound: the least recently seen go first, anonymous ones before signed-in ones.
        if (n >= this.max) {
          this.db
            .prepare('DELETE FROM ui_sessions WHERE key IN (SELECT key FROM ui_sessions ORDER BY signed_in, last_seen LIMIT ?)')
            .run(n - this.max + 1);
        }
        this.db
          .prepare('INSERT INTO ui_sessions (key, sealed, signed_in, last_seen) VALUES (?, ?, ?, ?)')
          .run(uiSessionKey(session.id), this.seal({ csrf: session.csrf, credential, auditId }), credential === null ? 0 : 1, now);
      })
      .immediate();
    return session;
  }

  get(id: string | undefined): UiSession | null {
    if (!id || id.length > 100) return null;
    const key = uiSessionKey(id);
    const row = this.db.prepare<[string], { sealed: Buffer; last_seen: number }>('SELECT sealed, last_seen FROM ui_sessions WHERE key = ?').get(key);
    if (!row) return null;
    const now = this.now();
    const opened = now - row.last_seen > this.idleMs ? null : this.open(row.sealed);
    if (!opened) {
      // Idle too long, or sealed by an earlier start of the server (whose key is gone).
      this.db.prepare('DELETE FROM ui_sessions WHERE key = ?').run(key);
      return null;
    }
    if (now - row.last_seen >= TOUCH_EVERY_MS) this.db.prepare('UPDATE ui_sessions SET last_seen = ? WHERE key = ?').run(now, key);
    return { id, csrf: opened.csrf, credential: opened.credential, auditId: opened.auditId, lastSeen: now };
  }

  signIn(previous: UiSession | null, credential: NonNullable<UiSession['credential']>): UiSession {
    if (previous) this.end(previous);
    return this.create(credential);
  }

  end(session: UiSession): void {
    this.db.prepare('DELETE FROM ui_sessions WHERE key = ?').run(uiSessionKey(session.id));
  }

  issueLocalToken(ttlMs: number): string {
    const value = newUiToken();
    this.db.prepare('INSERT INTO ui_local_tokens (key, until) VALUES (?, ?)').run(uiSessionKey(value), this.now() + ttlMs);
    return value;
  }

  spendLocalToken(value: string): boolean {
    if (value.length > 100) return false;
    // Deleted and read in one statement: two workers spending the same token cannot both succeed.
    const row = this.db.prepare<[string], { until: number }>('DELETE FROM ui_local_tokens WHERE key = ? RETURNING until').get(uiSessionKey(value));
    return row !== undefined && this.now() <= row.until;
  }

  private expire(now: number): void {
    this.db.prepare('DELETE FROM ui_sessions WHERE last_seen < ?').run(now - this.idleMs);
    this.db.prepare('DELETE FROM ui_local_tokens WHERE until < ?').run(now);
  }

  private seal(value: Sealed): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /** What a row holds, or null when it was not sealed with this key (or was altered). */
  private open(sealed: Buffer): Sealed | null {
    if (sealed.length < 28) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      const text = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as Sealed;
    } catch {
      return null;
    }
  }
}
