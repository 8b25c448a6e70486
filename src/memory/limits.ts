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

/**
 * Keys JavaScript gives a meaning of their own. JSON.parse keeps them as data,
 * but objects built from them drop or misread them (zod drops `__proto__`
 * while building a record), so what is stored would differ from what was sent.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Where the first reserved key sits in a JSON value as it arrived, before any
 * schema rebuilt it, and what to do: `metadata.a.__proto__: the key …`; null
 * when there is none. Iterative, so any depth is safe to walk.
 */
export function reservedKeyProblem(value: unknown): string | null {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i -= 1) stack.push({ value: current[i], path: `${path}[${i}]` });
      continue;
    }
    const keys = Object.keys(current);
    const at = (key: string): string => (path === '' ? key : `${path}.${key}`);
    const reserved = keys.find((key) => RESERVED_KEYS.has(key));
    if (reserved !== undefined) return `${at(reserved)}: the key "${reserved}" is reserved and cannot be stored; rename it`;
    for (const key of keys.reverse()) stack.push({ value: (current as Record<string, unknown>)[key], path: at(key.slice(0, 40)) });
  }
  return null;
}
