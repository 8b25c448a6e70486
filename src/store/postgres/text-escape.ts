/**
 * PostgreSQL text cannot hold U+0000, which memories may carry (SQLite keeps
 * it). Free text goes in with U+0000 written as U+0001 U+0002 and U+0001 as
 * U+0001 U+0001, and comes back out as it was. Labels, ids and keys never
 * hold control characters (the tools refuse them), so only free text needs it;
 * both are word separators to the tokenizer, so keyword terms do not change.
 */
export const toDb = <T extends string | null>(text: T): T =>
  (text !== null && /[\u0000\u0001]/.test(text) ? text.replace(/[\u0000\u0001]/g, (c) => (c === '\u0000' ? '\u0001\u0002' : '\u0001\u0001')) : text) as T;

export const fromDb = <T extends string | null>(text: T): T =>
  (text !== null && text.includes('\u0001') ? text.replace(/\u0001([\u0001\u0002])/g, (_, c: string) => (c === '\u0002' ? '\u0000' : '\u0001')) : text) as T;

/** The row with these free-text columns decoded. */
export function decoded<R extends object>(row: R, ...columns: Array<keyof R>): R {
  const out = { ...row };
  for (const column of columns) {
    const value = out[column];
    if (typeof value === 'string') (out as Record<keyof R, unknown>)[column] = fromDb(value);
  }
  return out;
}
