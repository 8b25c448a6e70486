import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The file, in the root data directory, that holds the key of every audit fingerprint there (every tenant's too). */
export const FINGERPRINT_SECRET_FILE = 'audit-fingerprint.key';

/** 32 random bytes, written as 64 lower-case hex digits and a newline. */
const SECRET_BYTES = 32;
const SECRET_TEXT = /^[0-9a-f]{64}\n?$/;

/** A secret file that cannot be used: the process must not start (one line for the operator). */
export class FingerprintSecretError extends Error {
  override readonly name = 'FingerprintSecretError';
}

/**
 * The data directory's audit fingerprint secret, created on first use when
 * `create` is set. Several processes starting together on a new data
 * directory end up with one secret: each writes a complete temp file and
 * links it into place, which fails for all but the first, and then reads
 * what is there. A file that is not exactly a secret, or that group or others
 * may read or change, is refused rather than repaired: a loose one may already
 * have leaked, and a new secret would silently stop old fingerprints matching.
 */
export function loadFingerprintSecret(dataDir: string, options: { create: boolean }): Buffer {
  const file = join(dataDir, FINGERPRINT_SECRET_FILE);
  const existing = readSecret(file);
  if (existing) return existing;
  if (!options.create) {
    throw new FingerprintSecretError(`no audit fingerprint secret in ${dataDir} (${FINGERPRINT_SECRET_FILE}): no server has run on this data directory yet; check --data-dir`);
  }
  try {
    createOnce(dataDir, file);
  } catch (error) {
    throw new FingerprintSecretError(`cannot create the audit fingerprint secret ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); pinak-memory needs to write in its data directory`);
  }
  const created = readSecret(file);
  if (!created) throw new FingerprintSecretError(`the audit fingerprint secret ${file} vanished while it was being created; start again`);
  return created;
}

/** The secret in `file`, or null when there is no file. */
function readSecret(file: string): Buffer | null {
  let text: string;
  let mode: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new FingerprintSecretError(`the audit fingerprint secret ${file} is not a regular file; move it away and start again (a new secret is then created, and audit rows written before no longer match 'audit fingerprint')`);
    mode = stat.mode;
    // Read only what a secret can hold: a larger file is damaged, whatever it is.
    text = stat.size <= SECRET_BYTES * 2 + 1 ? readFileSync(file, 'latin1') : '';
  } catch (error) {
    if (error instanceof FingerprintSecretError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') return null;
    throw new FingerprintSecretError(`cannot read the audit fingerprint secret ${file} (${code}); let the user that runs pinak-memory read it`);
  }
  // Windows has no such mode bits; there the directory's ACL protects it.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new FingerprintSecretError(`the audit fingerprint secret ${file} is open to group or others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); run chmod 600 on it`);
  }
  if (!SECRET_TEXT.test(text)) {
    throw new FingerprintSecretError(`the audit fingerprint secret ${file} is damaged (expected ${SECRET_BYTES * 2} hex digits); restore it from a backup, or delete it to create a new one (audit rows written before then no longer match 'audit fingerprint')`);
  }
  return Buffer.from(text.slice(0, SECRET_BYTES * 2), 'hex');
}

/** Write a new secret next to `file` and link it into place unless another process got there first. */
function createOnce(dataDir: string, file: string): void {
  mkdirSync(dataDir, { recursive: true });
  const temp = join(dataDir, `.${FINGERPRINT_SECRET_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, `${randomBytes(SECRET_BYTES).toString('hex')}\n`);
      // On disk before it is visible: a secret lost after rows were keyed with it would orphan them.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return; // another process linked its own first: everyone reads that one
    }
    syncDirectory(dataDir);
  } finally {
    unlinkSync(temp);
  }
}

/** Make the new directory entry durable (not possible, nor needed, on Windows). */
function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
