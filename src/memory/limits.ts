import { MemoryError } from '../domain/errors.js';

const MAX_JSON_DEPTH = 16;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Refuse text over the configured size, naming the field and the limit. */
export function checkTextSize(field: string, text: string, maxBytes: number): void {
  const size = utf8Bytes(text);
  if (size > maxBytes) {
    throw new MemoryError(
      'too_large',
      `${field} is ${size} bytes, over the limit of ${maxBytes}; split it into smaller memories`,
    );
  }
}

function depth(value: unknown, level: number): number {
  if (level > MAX_JSON_DEPTH) return level;
  if (value === null || typeof value !== 'object') return level;
  let deepest = level;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child, level + 1));
  return deepest;
}

/** Refuse a JSON object that is too large or too deeply nested to store. */
export function checkJsonObject(field: string, value: Record<string, unknown>, maxBytes: number): void {
  if (depth(value, 1) > MAX_JSON_DEPTH) {
    throw new MemoryError('invalid_input', `${field} is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it`);
  }
  checkTextSize(field, JSON.stringify(value), maxBytes);
}
