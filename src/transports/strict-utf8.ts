/**
 * Decodes UTF-8 or throws: a request body or stdio line holding bytes that
 * are not UTF-8 is refused, never stored with U+FFFD in their place (a
 * newline byte never occurs inside a UTF-8 sequence, so each stdio line
 * decodes alone). A byte order mark is kept, so JSON.parse refuses it as before.
 */
export const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
