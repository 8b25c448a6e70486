import { existsSync } from 'node:fs';

/**
 * The browser the memory browser's tests drive: Debian's chromium (CI
 * installs it when missing, see .ci/run), or PINAK_TEST_CHROMIUM.
 */
export function chromiumBinary(): string {
  const candidates = [process.env.PINAK_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => Boolean(p));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error('no chromium found: apt-get install chromium, or set PINAK_TEST_CHROMIUM to a Chrome or Chromium binary');
  return found;
}

export interface UiResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A browser as far as the server can tell, with plain fetch: one session
 * cookie, redirects not followed, and the Origin a browser sends with forms.
 */
export class UiClient {
  cookie: string | null = null;

  constructor(
    readonly origin: string,
    private readonly fetcher: typeof fetch = fetch,
  ) {}

  /** Cookies other than the session's, kept and sent back as a browser does (a proxy's, say). */
  readonly otherCookies = new Map<string, string>();

  private remember(response: Response): void {
    for (const set of response.headers.getSetCookie()) {
      const [name = '', value = ''] = (set.split(';')[0] ?? '').split('=', 2);
      if (name === 'pinak_ui') this.cookie = value === '' ? null : value;
      else if (name) this.otherCookies.set(name, value);
    }
  }

  /** The Cookie header a browser would send, if any. */
  private cookieHeader(): Record<string, string> {
    const pairs = [...(this.cookie ? [`pinak_ui=${this.cookie}`] : []), ...[...this.otherCookies].map(([name, value]) => `${name}=${value}`)];
    return pairs.length > 0 ? { cookie: pairs.join('; ') } : {};
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<UiResponse> {
    const response = await this.fetcher(new URL(path, this.origin), { redirect: 'manual', headers: { ...this.cookieHeader(), ...headers } });
    this.remember(response);
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<UiResponse> {
    const response = await this.fetcher(new URL(path, this.origin), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin, ...this.cookieHeader(), ...headers },
      body: new URLSearchParams(fields).toString(),
    });
    this.remember(response);
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** The CSRF token of the forms on a page. */
  static csrf(page: string): string {
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    if (!token) throw new Error('no CSRF token on the page');
    return token;
  }

  /** Sign in with an API key through the sign-in form; returns the token of the signed-in session's forms. */
  async signIn(key: string): Promise<string> {
    const form = await this.get('/ui/login');
    const answer = await this.post('/ui/login', { csrf: UiClient.csrf(form.text), key });
    if (answer.status !== 303) throw new Error(`sign-in failed (${answer.status}): ${answer.text.slice(0, 300)}`);
    return UiClient.csrf((await this.get('/ui/')).text);
  }
}
