import type { Authenticator } from '../../auth/authenticator.js';
import type { Logger } from '../../logging.js';
import type { SessionDirectory } from './session-directory.js';
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

/** How often the shared directory's sessions are checked: their requests are refused at once anyway; this frees their places. */
export const SHARED_CREDENTIAL_CHECK_MS = 5000;

/**
 * End the shared directory's sessions of keys revoked, expired or deleted.
 * Every replica checks (any may be the one still running); a revoked key's
 * requests are refused by each replica's own key check from the next one,
 * so this only gives its places back to the key's tenant.
 */
export function watchSharedCredentials(directory: SessionDirectory, auth: Authenticator, logger: Logger, everyMs = SHARED_CREDENTIAL_CHECK_MS): () => void {
  let running = false;
  const check = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const ids = await directory.principalIds();
      const invalid = await auth.invalidKeys(ids.map((id) => ({ id, tenant: '', role: 'reader', namespaces: null, remoteAddress: null })));
      const ended = await directory.endOf([...invalid]);
      if (ended > 0) logger.info({ sessions: ended, keyIds: [...invalid] }, 'ended the sessions of revoked or expired keys');
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, 'could not check the credentials of shared sessions');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
