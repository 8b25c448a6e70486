/** The schemes a PostgreSQL connection URL may have. */
const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/** Is this a PostgreSQL connection URL (postgres:// or postgresql://)? */
export function isPostgresUrl(text: string): boolean {
  return POSTGRES_URL.test(text) && !/\s/.test(text);
}

/**
 * Is this a Redis URL a client can connect with: redis:// (or rediss://, TLS)
 * with a host, an optional port, and an optional database number as the
 * path (redis://user:password@host:6379/2)?
 */
export function isRedisUrl(text: string): boolean {
  if (/\s/.test(text)) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return false;
  return url.hostname !== '' && /^(?:\/\d{0,9})?$/.test(url.pathname) && url.hash === '';
}

/**
 * A connection URL fit for logs and error messages: its password, in the
 * user-info part or as a `password=` parameter, replaced by `***`. The
 * user-info ends at the last `@` before the first `/`, `?` or `#` after it,
 * as URL parsers (and so the PostgreSQL client) read it; a `/`, `?` or `#`
 * before any `@` does not end it here, so that a password holding one
 * unencoded (which no client could parse) is hidden too: when in doubt,
 * more is hidden, never less.
 */
export function redactDatabaseUrl(url: string): string {
  let text = url;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  if (scheme) {
    const rest = text.slice(scheme[0].length);
    const at = lastAtOfAuthority(rest);
    if (at >= 0) {
      const userInfo = rest.slice(0, at);
      const colon = userInfo.indexOf(':');
      if (colon >= 0) text = `${scheme[0]}${userInfo.slice(0, colon)}:***${rest.slice(at)}`;
    }
  }
  // libpq also takes the password as a parameter (?password=…, &password=…),
  // and as a keyword in its other form of connection string (password='…').
  return text.replace(/(^|[?&\s])(password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&#\s]*)/gi, '$1$2***');
}

/** Where the user-info of a URL's authority (the text after `scheme://`) ends, or -1 when it has none. */
function lastAtOfAuthority(rest: string): number {
  let at = -1;
  for (let i = 0; i < rest.length; i += 1) {
    const char = rest[i];
    if (char === '@') at = i;
    else if ((char === '/' || char === '?' || char === '#') && at >= 0) break;
  }
  return at;
}
