import type { IncomingMessage } from 'node:http';
import { bareHost, isLoopbackHost, urlHost } from './bind-policy.js';
import { STRICT_UTF8 } from '../strict-utf8.js';

/** Names a browser or client may use for this machine's loopback interface. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export interface HeaderPolicy {
  /**
   * Why the request is refused (for a 403), or null when its Host and Origin
   * are acceptable. `ownPages` (the memory browser's paths): an Origin of
   * "null" passes here (its forms, sent under Referrer-Policy: no-referrer,
   * carry it), and so does the origin of the Host itself, once that Host is
   * allowed: the page that sent the form was served by this server under
   * that name, as behind a proxy. The browser's own routes then check
   * Sec-Fetch-Site or the exact origin, and a CSRF token.
   */
  refusal(req: IncomingMessage, options?: { ownPages?: boolean }): string | null;
}

/**
 * DNS-rebinding protection. A page on another site can make a browser send
 * requests to 127.0.0.1 under its own name; the Host header then carries that
 * name, and the Origin header the page's origin. Both must be on the allowlist:
 * the loopback names with the listening port, the bound host, and whatever
 * was configured. A request without Origin (not from a browser) is allowed.
 *
 * `extraHosts` entries with a port match exactly; without one, on any port.
 */
export function headerPolicy(boundHost: string, port: () => number, extraHosts: readonly string[], extraOrigins: readonly string[]): HeaderPolicy {
  const names = [...new Set([...LOOPBACK_NAMES, urlHost(bareHost(boundHost)).toLowerCase()])];
  const extras = extraHosts.map((entry) => entry.toLowerCase());
  const hostAllowed = (host: string): boolean => {
    const value = host.toLowerCase();
    if (names.some((name) => value === `${name}:${port()}`)) return true;
    return extras.some((entry) => value === entry || (!/:\d+$/.test(entry) && value.replace(/:\d+$/, '') === entry));
  };
  const originAllowed = (origin: string): boolean => {
    const value = origin.toLowerCase();
    return names.some((name) => value === `http://${name}:${port()}`) || extraOrigins.some((entry) => entry.toLowerCase() === value);
  };
  return {
    refusal(req, options = {}) {
      const host = req.headers.host;
      if (host === undefined || !hostAllowed(host)) return hostRefusal(host);
      const origin = req.headers.origin;
      if (options.ownPages && (origin === 'null' || (origin !== undefined && originHost(origin) === host.toLowerCase()))) return null;
      if (origin !== undefined && !originAllowed(origin)) return originRefusal(origin);
      return null;
    },
  };
}

/** The host (and port, if any) an origin names, lower case; '' for one that is not a URL. */
function originHost(origin: string): string {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return '';
  }
}

/** A Host value worth suggesting as an --allowed-hosts entry: a name or address, with an optional port. */
const SUGGESTABLE_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The 403 for a Host not on the allowlist, saying how to admit it: a server
 * bound to 0.0.0.0 is reached by the machine's address or name, which only
 * --allowed-hosts adds (the entry without its port matches any port).
 */
function hostRefusal(host = ''): string {
  const shown = JSON.stringify(host.slice(0, 200));
  const fix = SUGGESTABLE_HOST.test(host)
    ? `if clients reach this server by that name, start it with --allowed-hosts ${host.replace(/:\d+$/, '')}`
    : 'start the server with --allowed-hosts NAME for each name clients use';
  return `Forbidden: Host header ${shown} is not allowed (only loopback names, the bound address and --allowed-hosts are); ${fix}`;
}

/** The 403 for a browser Origin not on the allowlist. */
function originRefusal(origin: string): string {
  return `Forbidden: Origin ${JSON.stringify(origin.slice(0, 200))} is not allowed (only loopback origins and --allowed-origins are); if a web app at that origin should call this server, start it with --allowed-origins ORIGIN`;
}

/**
 * What the startup line adds when the server listens beyond loopback and no
 * --allowed-hosts is set: remote clients send the machine's name or address
 * as Host, and every such request (the MCP endpoints and metrics) gets 403
 * until that name is listed. Null when nothing needs saying.
 */
export function allowedHostsHint(boundHost: string, port: number, extraHosts: readonly string[]): string | null {
  if (isLoopbackHost(boundHost) || extraHosts.length > 0) return null;
  const wildcard = ['0.0.0.0', '::', '[::]'].includes(boundHost);
  const served = wildcard ? `localhost:${port}, 127.0.0.1:${port} or [::1]:${port}` : `${urlHost(bareHost(boundHost))}:${port} or a loopback name`;
  return `only requests whose Host is ${served} reach MCP; list the names or addresses remote clients use for this machine with --allowed-hosts (e.g. --allowed-hosts memory.example.com,192.0.2.10), or they get 403`;
}

/**
 * Why a request that names its host more than once is refused (400), or null.
 * Node keeps only the first Host header, while a proxy in front may have
 * routed or checked by another one: the two would disagree on where the
 * request goes, so neither is trusted.
 */
export function repeatedHostRefusal(req: IncomingMessage): string | null {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts += 1;
  return hosts > 1 ? `Bad Request: the request has ${hosts} Host headers; send exactly one` : null;
}

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; code: number; message: string };

/**
 * Read a JSON request body of at most `maxBytes`. A declared or observed
 * larger body is refused with 413 without reading the rest into memory.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const tooLarge: BodyResult = { ok: false, status: 413, code: -32000, message: `Payload Too Large: the request body is over ${maxBytes} bytes (see --max-body-bytes)` };
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return { ok: false, status: 415, code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge;
  const body = await new Promise<Buffer | 'too large' | 'failed'>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | 'too large' | 'failed'): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; the router answers 413 and closes the connection.
        req.pause();
        finish('too large');
      } else chunks.push(chunk);
    };
    const onEnd = (): void => finish(Buffer.concat(chunks));
    // An error, or the connection closing before the end: the client went away.
    const onError = (): void => finish('failed');
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onError);
  });
  if (body === 'too large') return tooLarge;
  if (body === 'failed') return { ok: false, status: 400, code: -32000, message: 'Bad Request: the request body could not be read' };
  let text: string;
  try {
    text = STRICT_UTF8.decode(body);
  } catch {
    return { ok: false, status: 400, code: -32700, message: 'Parse error: the request body is not valid UTF-8; send JSON encoded as UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, code: -32700, message: 'Parse error: the request body is not valid JSON' };
  }
}
