const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

/** The path of the first string (value or key) that is not well-formed UTF-16, or null. */
export function unpairedSurrogateAt(value: unknown, path = '(arguments)'): string | null {
  if (typeof value === 'string') return wellFormed(value) ? null : path;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unpairedSurrogateAt(item, `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = path === '(arguments)' ? key : `${path}.${key.slice(0, 40)}`;
      if (!wellFormed(key)) return `a key of ${path}`;
      const found = unpairedSurrogateAt(item, at);
      if (found) return found;
    }
  }
  return null;
}

/** Deeper arguments are refused before anything walks them recursively (validation, hashing). */
export const MAX_ARGUMENT_DEPTH = 64;

/** True when a JSON value nests deeper than `limit` levels; iterative, so any depth is safe to check. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}
