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
