import { z } from 'zod';
import { Namespace } from './domain/fields.js';
import { SECRET_ACTIONS } from './firewall/secret-guard.js';
import { INJECTION_ACTIONS } from './firewall/injection-guard.js';

/** How a setting's text (a flag, an environment variable, a file) becomes its value: the parsers config.ts builds its schema from. */

export const intFromText = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max);
export const numberFromText = (min: number, max: number) => z.coerce.number().min(min).max(max);
export const boolFromText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A host name, an IPv4 address, or an IPv6 address (brackets optional). */
export const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[?[0-9A-Fa-f:.]{2,45}\]?)$/;
/** What an HTTP Host header may hold: a host name or address, with an optional port. */
export const HOST_HEADER = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
/** A comma-separated list whose entries each pass `entry`. */
export const listFromText = (entry: z.ZodType<string, string>) =>
  z.string().transform((text) => text.split(',').map((part) => part.trim()).filter((part) => part !== '')).pipe(z.array(entry));
/** Namespaces and what each does with secrets: `vault=allow,shared=refuse`. */
export const SECRET_ACTION_MESSAGE = `expected ${SECRET_ACTIONS.join(', ')}`;
export const secretsByNamespace = listFromText(z.string().regex(/^[^=]+=[a-z]+$/, 'expected namespace=action entries, comma separated')).pipe(
  z.array(z.string()).transform((entries) => entries.map((entry) => entry.split('=') as [string, string])).pipe(
    z.array(z.tuple([Namespace, z.enum(SECRET_ACTIONS, { message: SECRET_ACTION_MESSAGE })])),
  ),
);
export const INJECTION_ACTION_MESSAGE = `expected ${INJECTION_ACTIONS.join(', ')}`;
const InjectionAction = z.enum(INJECTION_ACTIONS, { message: INJECTION_ACTION_MESSAGE });
/**
 * Namespaces and what each does with flagged text: `web=refuse` (text from
 * web, tool and import; the user's and agent's keep --injections-own),
 * `cautious=hold:hold` (both); a name `tenant/namespace` is that tenant's.
 */
export const injectionsByNamespace = listFromText(z.string().regex(/^[^=]+=[a-z]+(?::[a-z]+)?$/, 'expected namespace=action or namespace=action:action entries, comma separated')).pipe(
    z.array(z.string()).transform((entries) => entries.map((entry) => entry.split('=') as [string, string])).pipe(
      z.array(
        z.tuple([
          Namespace,
          z.string().transform((value) => value.split(':')).pipe(z.array(InjectionAction).min(1).max(2)),
        ]),
      ),
    ),
  ).transform((entries) => entries.map(([namespace, [untrusted, own]]) => [namespace, own === undefined ? { untrusted: untrusted! } : { untrusted: untrusted!, own }] as const));

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
export function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text.toLowerCase();
  } catch {
    return false;
  }
}

/** Where embeddings may come from: this process (the bundled or a transformers.js model) or a service over HTTP. */
export const EMBED_PROVIDERS = ['local', 'openai', 'ollama', 'tei'] as const;

/** An embedding service's base URL: http or https, a host, no fragment. */
export function isServiceUrl(text: string): boolean {
  if (/\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.hash === '';
  } catch {
    return false;
  }
}

/** Where an identity provider's keys may be fetched: https, or http on this machine only. */
export function isJwksUrl(text: string): boolean {
  try {
    const url = new URL(text);
    const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
    return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
  } catch {
    return false;
  }
}
export const ClaimName = z.string().min(1).max(200);
/** A replica's name: what a proxy routes by, so a word safe in a URL query and a proxy's configuration. */
export const REPLICA_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

