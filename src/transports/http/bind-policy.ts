import { isIP } from 'node:net';

/** A problem with how the HTTP server was asked to start: printed as one line, exit code 1. */
export class HttpStartError extends Error {
  override readonly name = 'HttpStartError';
}

/** The host without the brackets an IPv6 address may carry. */
export const bareHost = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');

/** True for addresses only this machine can reach: localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x). */
export function isLoopbackHost(host: string): boolean {
  const bare = bareHost(host).toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) {
    // The URL parser writes IPv6 addresses in their shortest form: ::1, or ::ffff:7fxx:… for a mapped 127.x.
    const canonical = new URL(`http://[${bare}]/`).hostname;
    return canonical === '[::1]' || canonical.startsWith('[::ffff:7f');
  }
  return false;
}

/**
 * Whether requests must prove who they come from. Nothing authenticates
 * requests yet, so this is false; the authentication work makes it true when
 * keys or tokens are configured, which lifts the loopback-only rule below.
 */
export function authenticationConfigured(): boolean {
  return false;
}

/** Refuse to listen where other machines could connect, unless requests are authenticated. */
export function checkBindAddress(host: string): void {
  if (isLoopbackHost(host) || authenticationConfigured()) return;
  throw new HttpStartError(
    `refusing to listen on ${host}: without authentication (not available yet) the HTTP transport binds only loopback addresses (127.0.0.1, ::1, localhost); use --host 127.0.0.1, and a reverse proxy with authentication for remote clients`,
  );
}

/** The address as it appears in a URL or a Host header (IPv6 in brackets). */
export const urlHost = (host: string): string => (isIP(bareHost(host)) === 6 ? `[${bareHost(host)}]` : host);
