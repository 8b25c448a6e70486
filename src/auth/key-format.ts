import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every key starts with this, so a leaked one is easy to recognise (and to scan for). */
const PREFIX = 'pk_';
/** 32 random bytes: 256 bits, far beyond guessing; base64url without padding is 43 characters. */
const KEY_BYTES = 32;
const KEY_PATTERN = /^pk_[A-Za-z0-9_-]{43}$/;

/** A new API key: shown once to whoever creates it, never stored. */
export const generateKey = (): string => PREFIX + randomBytes(KEY_BYTES).toString('base64url');

/**
 * What is stored instead of the key: its SHA-256. A slow password hash buys
 * nothing for 256 random bits, and a fast one keeps the per-request check cheap.
 */
export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** Whether a presented key has the shape of ours (anything else is refused without a lookup). */
export const looksLikeKey = (text: string): boolean => KEY_PATTERN.test(text);

/** Compare two hex digests in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/**
 * The token of an `Authorization: Bearer …` header: null when there is no
 * header, '' when there is one of another scheme or without a token.
 */
export function bearerToken(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? (header[0] ?? '') : header;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(value);
  return match ? match[1]! : '';
}
