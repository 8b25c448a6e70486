import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOCAL_PRINCIPAL, roleIncludes, type Principal } from '../../domain/principal.js';
import { html, type Html } from '../../ui/html.js';
import { barePage, notice } from '../../ui/layout.js';
import { loginPage } from '../../ui/pages.js';
import { handlePage, UiError } from '../../ui/routes.js';
import { sameSecret, type UiSession } from '../../ui/sessions.js';
import { STYLESHEET } from '../../ui/style.js';
import { ToolCaller } from '../../ui/tool-calls.js';
import { STRICT_UTF8 } from '../strict-utf8.js';
import { auditRefusal } from './auth-gate.js';
import type { HttpContext } from './context.js';

export const UI_COOKIE = 'pinak_ui';

/** Longest form body the browser may post (a corrected memory's text is the largest field). */
const MAX_FORM_BYTES = 256 * 1024;

/** How long a one-time local sign-in link stays valid. */
export const LOCAL_LINK_MS = 60 * 60_000;

/**
 * Every answer of the memory browser: no script may run (there is none), no
 * style but the stylesheet from this origin, forms post only here, no page
 * may frame it, nothing is sniffed, cached or sent as a referrer.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export const sendPage = (res: ServerResponse, status: number, page: Html, headers: Record<string, string> = {}): void => send(res, status, 'text/html; charset=utf-8', page.text, headers);

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  send(res, 303, 'text/plain; charset=utf-8', '', { location, ...headers });
}

export function errorPage(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendPage(res, status, barePage('Error', html`<h1>${status === 403 ? 'Forbidden' : status === 404 ? 'Not found' : status === 429 ? 'Too many requests' : status >= 500 ? 'Something went wrong' : 'Bad request'}</h1>${notice(message, 'error')}<p><a href="/ui/">Back to the memory browser</a></p>`), headers);
}

/** Whether the browser reached us over TLS, as far as it matters for the cookie: a client claiming https only makes its own cookie stricter. */
const overTls = (req: IncomingMessage): boolean => (req.socket as { encrypted?: boolean }).encrypted === true || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase() === 'https';

function cookieHeader(req: IncomingMessage, value: string, clear = false): string {
  return `${UI_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/ui${clear ? '; Max-Age=0' : ''}${overTls(req) ? '; Secure' : ''}`;
}

function cookieOf(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === UI_COOKIE) return rest.join('=');
  }
  return undefined;
}

/** A POST form's fields, or why it was refused. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | { status: number; message: string }> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return { status: 415, message: 'forms are posted as application/x-www-form-urlencoded' };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_FORM_BYTES) return { status: 413, message: `the form is over ${MAX_FORM_BYTES} bytes` };
  const chunks: Buffer[] = [];
  let size = 0;
  // Past the limit the rest is read and dropped (leaving the loop would destroy the connection before the answer).
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_FORM_BYTES) chunks.push(chunk);
  }
  if (size > MAX_FORM_BYTES) return { status: 413, message: `the form is over ${MAX_FORM_BYTES} bytes` };
  try {
    return new URLSearchParams(STRICT_UTF8.decode(Buffer.concat(chunks)));
  } catch {
    return { status: 400, message: 'the form is not valid UTF-8' };
  }
}

/**
 * Whether a POST comes from this server's own pages, as the browser tells:
 * an Origin naming this very server (as the browser reached it), or, since
 * our pages send no referrer (and browsers then send "Origin: null" with
 * their forms), an opaque Origin with Sec-Fetch-Site: same-origin, a header
 * no page can set. A request with neither is refused: not from a browser
 * page of ours.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const expected = `${overTls(req) ? 'https' : 'http'}://${req.headers.host ?? ''}`.toLowerCase();
  const fetchSite = req.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return false;
  if (typeof origin === 'string' && origin.toLowerCase() === expected) return true;
  return origin === 'null' && fetchSite === 'same-origin';
}

/** Why a POST is refused as a possible cross-site request, or null: it must come from our own pages (above) and carry the session's CSRF token. */
function forgeryRefusal(req: IncomingMessage, form: URLSearchParams, session: UiSession | null): string | null {
  if (!sameOrigin(req)) return 'the form was not sent from this server\'s own pages (its Origin is missing or another site\'s)';
  const token = form.get('csrf');
  if (!session || token === null || !sameSecret(token, session.csrf)) return 'the form\'s security token does not match this browser session; reload the page and try again';
  return null;
}

/** Who this session's requests act as, or why not any more (the key was revoked, expired, or keys became required). */
async function principalOf(ctx: HttpContext, req: IncomingMessage, session: UiSession): Promise<{ ok: true; principal: Principal } | { ok: false; message: string; code: string; keyId: string | null; tenant: string | null }> {
  const remote = req.socket.remoteAddress ?? null;
  const credential = session.credential!;
  if (credential.kind === 'local') {
    if (await ctx.auth.required()) return { ok: false, message: 'this server now requires an API key: sign in with one', code: 'no_key', keyId: null, tenant: null };
    return { ok: true, principal: { ...LOCAL_PRINCIPAL, remoteAddress: remote } };
  }
  const result = await ctx.auth.authenticate(`Bearer ${credential.value}`, remote);
  if (!result.ok) return { ok: false, message: result.message.replace(/^Unauthorized: /, ''), code: result.code, keyId: result.keyId, tenant: result.tenant };
  if (result.principal.id === LOCAL_PRINCIPAL.id) return { ok: false, message: 'sign in again', code: 'no_key', keyId: null, tenant: null };
  return { ok: true, principal: result.principal };
}

/** A one-time link that signs the local user in, while the server requires no key; null when keys are required. */
export async function localSignInPath(ctx: HttpContext): Promise<string | null> {
  if (await ctx.auth.required()) return null;
  return `/ui/login?token=${ctx.ui.issueLocalToken(LOCAL_LINK_MS)}`;
}

/** Everything under /ui: the memory browser. */
export async function serveUi(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? '';
  const path = url.pathname;
  if (path === '/ui/ui.css') {
    if (method !== 'GET' && method !== 'HEAD') return errorPage(res, 405, 'use GET');
    return send(res, 200, 'text/css; charset=utf-8', STYLESHEET, { 'cache-control': 'no-cache' });
  }
  if (path === '/ui') return redirect(res, '/ui/');
  if (method !== 'GET' && method !== 'POST') return errorPage(res, 405, 'the memory browser answers GET and POST only');
  if (url.search.length > 4096) return errorPage(res, 414, 'the address is too long');
  let session = ctx.ui.get(cookieOf(req));

  let form: URLSearchParams | null = null;
  if (method === 'POST') {
    const read = await readForm(req);
    if (!(read instanceof URLSearchParams)) {
      // What is left of the body is read and dropped, so the client gets this answer instead of a reset connection.
      req.resume();
      return errorPage(res, read.status, read.message, { connection: 'close' });
    }
    form = read;
    const refusal = forgeryRefusal(req, form, session);
    if (refusal) {
      ctx.runtime.warnings.warn('ui form refused', { path, remote: req.socket.remoteAddress ?? null }, 'memory browser: a form without a valid origin or CSRF token was refused');
      return errorPage(res, 403, refusal);
    }
  }

  if (path === '/ui/login') return login(ctx, req, res, url, session, form);
  if (path === '/ui/logout') {
    if (method !== 'POST') return errorPage(res, 405, 'sign out with the button (POST)');
    if (session) ctx.ui.end(session);
    return redirect(res, '/ui/login', { 'set-cookie': cookieHeader(req, '', true) });
  }

  if (!session?.credential) return redirect(res, '/ui/login');
  const who = await principalOf(ctx, req, session);
  if (!who.ok) {
    ctx.ui.end(session);
    session = null;
    await auditRefusal(ctx, req, path, req.socket.remoteAddress ?? null, { code: who.code, keyId: who.keyId, tenant: who.tenant }, 'invalid');
    const fresh = ctx.ui.create();
    return sendPage(res, 401, loginPage(fresh.csrf, await ctx.auth.required(), `Signed out: ${who.message}`), { 'set-cookie': cookieHeader(req, fresh.id) });
  }
  const { principal } = who;
  if (principal.id !== LOCAL_PRINCIPAL.id) {
    const taken = await ctx.limiter.take(principal.id);
    if (!taken.ok) {
      await auditRefusal(ctx, req, path, req.socket.remoteAddress ?? null, { code: 'rate_limited', keyId: principal.id, tenant: principal.tenant }, 'error');
      return errorPage(res, 429, `this key may send ${ctx.limiter.perMinute} requests a minute; retry in ${taken.retryAfterSeconds} s`);
    }
  }
  const lease = await ctx.tenants.acquire(principal.tenant);
  const tools = new ToolCaller(lease.runtime, principal, session.auditId);
  try {
    const answer = await handlePage({
      runtime: lease.runtime,
      tools,
      frame: { principal, csrf: session.csrf, local: session.credential.kind === 'local' },
      auditSession: session.auditId,
      method,
      path,
      params: url.searchParams,
      form,
    });
    if (answer.kind === 'redirect') return redirect(res, answer.location);
    return sendPage(res, answer.status, answer.page);
  } catch (error) {
    if (error instanceof UiError) return errorPage(res, error.status, error.message);
    const ref = randomBytes(4).toString('hex');
    lease.runtime.logger.error({ err: error, path, ref }, 'memory browser page failed');
    return errorPage(res, 500, `the page could not be made (reference ${ref} in the server log)`);
  } finally {
    await tools.close().catch(() => undefined);
    lease.release();
  }
}

async function login(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, url: URL, session: UiSession | null, form: URLSearchParams | null): Promise<void> {
  const keysRequired = await ctx.auth.required();
  if (!form) {
    const token = url.searchParams.get('token');
    if (token !== null) {
      // The local one-time link: only while no key is required (then loopback HTTP is the local user anyway).
      if (keysRequired || !ctx.ui.spendLocalToken(token)) {
        const fresh = session ?? ctx.ui.create();
        const why = keysRequired ? 'this server requires an API key: sign in with one' : 'that sign-in link was used already or has expired; run pinak-memory ui again for a new one';
        return sendPage(res, 401, loginPage(fresh.csrf, keysRequired, why), { 'set-cookie': cookieHeader(req, fresh.id) });
      }
      const signedIn = ctx.ui.signIn(session, { kind: 'local' });
      return redirect(res, '/ui/', { 'set-cookie': cookieHeader(req, signedIn.id) });
    }
    if (session?.credential) return redirect(res, '/ui/');
    const fresh = session ?? ctx.ui.create();
    return sendPage(res, 200, loginPage(fresh.csrf, keysRequired, null), { 'set-cookie': cookieHeader(req, fresh.id) });
  }
  const key = (form.get('key') ?? '').trim();
  const again = (status: number, message: string): void => {
    const fresh = ctx.ui.create();
    if (session) ctx.ui.end(session);
    sendPage(res, status, loginPage(fresh.csrf, keysRequired, message), { 'set-cookie': cookieHeader(req, fresh.id) });
  };
  if (!keysRequired) return again(400, 'this server requires no API key; sign in with the one-time link pinak-memory ui prints');
  if (key === '' || key.length > 8192) return again(400, 'enter an API key');
  const result = await ctx.auth.authenticate(`Bearer ${key}`, req.socket.remoteAddress ?? null);
  if (!result.ok) {
    const throttled = ctx.unauthenticated.take(req.socket.remoteAddress ?? 'unknown');
    if (!throttled.ok) return again(429, `too many sign-in attempts from this address; retry in ${throttled.retryAfterSeconds} s`);
    await auditRefusal(ctx, req, '/ui/login', req.socket.remoteAddress ?? null, result, 'invalid');
    return again(401, result.message.replace(/^Unauthorized: /, ''));
  }
  if (!roleIncludes(result.principal.role, 'reader')) return again(403, 'this key has no role');
  const signedIn = ctx.ui.signIn(session, { kind: 'bearer', value: key });
  return redirect(res, '/ui/', { 'set-cookie': cookieHeader(req, signedIn.id) });
}

