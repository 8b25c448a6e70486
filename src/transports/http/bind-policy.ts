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
 * Refuse to listen where other machines could connect unless every request
 * must carry an API key (`authenticationRequired`: a key exists, or
 * `--auth keys`). Without keys, HTTP serves loopback clients as the local user.
 */
export function checkBindAddress(host: string, authenticationRequired: boolean): void {
  if (isLoopbackHost(host) || authenticationRequired) return;
  throw new HttpStartError(
    `refusing to listen on ${host}: without authentication the HTTP transport binds only loopback addresses (127.0.0.1, ::1, localhost); create an API key first (pinak-memory keys create --tenant T --role R) or set --auth keys, or use --host 127.0.0.1`,
  );
}

/** The address as it appears in a URL or a Host header (IPv6 in brackets). */
export const urlHost = (host: string): string => (isIP(bareHost(host)) === 6 ? `[${bareHost(host)}]` : host);
