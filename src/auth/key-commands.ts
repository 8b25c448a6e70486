import { MemoryError } from '../domain/errors.js';
import { keyTable, parseNewKey } from './key-input.js';
import { openKeyStore, type KeyStoreLocation } from './key-store.js';

const USAGE = 'usage: pinak-memory keys create --tenant T --role reader|writer|admin [--namespaces a,b] [--expires ISO|30d] [--name LABEL] | keys list | keys revoke ID';

/**
 * `keys create | list | revoke ID` against a key store (keys.db, or the PostgreSQL database's). Returns what to
 * print: create puts the key alone on stdout (shown this once, so a script
 * can capture it) and the rest on stderr; list never shows a key.
 * Bad input throws a MemoryError with a one-line message.
 */
export async function keysCommand(where: KeyStoreLocation, args: readonly string[], flags: Record<string, string | undefined>): Promise<{ stdout: string; stderr: string }> {
  const [command, ...rest] = args;
  const spec = command === 'create' && rest.length === 0 ? parseNewKey(flags, new Date()) : null;
  if (!spec && !(command === 'list' && rest.length === 0) && !(command === 'revoke' && rest.length === 1)) throw new MemoryError('invalid_input', USAGE);
  const store = await openKeyStore(where);
  try {
    if (spec) {
      const { key, record: k } = await store.create(spec, new Date().toISOString());
      const limits = `tenant ${k.tenant}, role ${k.role}, namespaces ${k.namespaces?.join(',') ?? 'all'}, expires ${k.expires_at ?? 'never'}`;
      return { stdout: `${key}\n`, stderr: `pinak-memory: created key ${k.id} (${limits}); the key is shown only this once: store it as a secret\n` };
    }
    if (command === 'list') {
      const all = await store.list();
      return all.length > 0 ? { stdout: keyTable(all), stderr: '' } : { stdout: '', stderr: 'pinak-memory: no API keys yet; create one with pinak-memory keys create --tenant T --role R\n' };
    }
    const id = rest[0]!;
    const before = await store.get(id);
    if (!before) throw new MemoryError('not_found', `no key with id ${JSON.stringify(id.slice(0, 100))}; pinak-memory keys list shows the ids`);
    const after = (await store.revoke(id, new Date().toISOString()))!;
    return { stdout: '', stderr: `pinak-memory: key ${id} ${before.revoked_at ? 'was already revoked at' : 'revoked at'} ${after.revoked_at}\n` };
  } finally {
    await store.close();
  }
}
