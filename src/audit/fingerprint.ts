import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal arguments hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }) ?? 'null';
}

/** What an audit row and an idempotency record keep of a call's arguments. */
export interface ArgumentsFingerprint {
  /**
   * HMAC-SHA256 (hex) of the canonical JSON, keyed with the data directory's
   * secret: the audit row's `args_sha256`. A plain hash of short text (a
   * four-digit code) is undone by trying every value; without the key it is not.
   */
  readonly sha256: string;
  /** UTF-8 size of the canonical JSON. */
  readonly bytes: number;
  /** The plain SHA-256 of the same text, which calls made before fingerprints were keyed stored with their idempotency key. */
  unkeyed(): string;
}

/** Fingerprints arguments with one data directory's secret. */
export type Fingerprinter = (args: unknown) => ArgumentsFingerprint;

/** A fingerprinter keyed with `secret` (see fingerprint-secret.ts). */
export function keyedFingerprinter(secret: Buffer): Fingerprinter {
  const key: KeyObject = createSecretKey(secret);
  return (args) => {
    const text = canonicalJson(args);
    return {
      sha256: createHmac('sha256', key).update(text).digest('hex'),
      bytes: Buffer.byteLength(text, 'utf8'),
      unkeyed: () => createHash('sha256').update(text).digest('hex'),
    };
  };
}
