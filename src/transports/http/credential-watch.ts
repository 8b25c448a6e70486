import type { Authenticator } from '../../auth/authenticator.js';
import type { Logger } from '../../logging.js';
import type { SessionRegistry } from './sessions.js';

/** How often open sessions' credentials are checked: a revoked key's sessions close within about this long. */
export const CREDENTIAL_CHECK_MS = 500;

/**
 * Close the sessions (and their streams, freeing their places) whose
 * credentials stopped being valid: API keys revoked, expired or deleted in
 * the key store (by any process sharing it: `keys revoke` on the command
 * line, or another server), and bearer tokens past their expiry. A revoked
 * key's requests are refused from the next one anyway; this ends what it
 * had already opened. Returns a function that stops the watch.
 */
export function watchCredentials(registry: SessionRegistry, auth: Authenticator, logger: Logger, everyMs = CREDENTIAL_CHECK_MS): () => void {
  let running = false;
  const check = async (): Promise<void> => {
    if (running || registry.size === 0) return;
    running = true;
    try {
      const expired = await registry.closeExpired(Date.now());
      const invalid = await auth.invalidKeys(registry.principals());
      const closed = invalid.size > 0 ? await registry.closeOf(invalid, 'key revoked or expired') : 0;
      if (expired + closed > 0) logger.info({ sessions: expired + closed, keyIds: [...invalid] }, 'closed the sessions of revoked or expired credentials');
    } catch (error) {
      // A busy key store is looked at again next time.
      logger.warn({ err: error }, 'could not check the credentials of open sessions');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
