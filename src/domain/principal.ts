import { z } from 'zod';

/** What a principal may do; each role includes the ones before it. */
export const ROLES = ['reader', 'writer', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** The tenant of stdio and of HTTP without keys: the data directory itself. */
export const LOCAL_TENANT = 'local';

/** Tenant names: short, and only characters safe in a directory name on every platform. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Device names Windows reserves, with or without an extension: no directory there can bear them. */
const WINDOWS_DEVICE_NAME = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?$/i;

/**
 * Why `name` cannot be a new tenant, or null when it can. Checked where a
 * tenant name comes in (a new key, a token's claim); directories already in
 * use keep working wherever the system allows them.
 */
export function tenantNameProblem(name: string): string | null {
  if (!TENANT_PATTERN.test(name)) return 'use 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit';
  if (WINDOWS_DEVICE_NAME.test(name)) return 'con, prn, aux, nul, com0-com9 and lpt0-lpt9 are device names on Windows, where no directory can have them; choose another name';
  return null;
}

/** Who is calling, as the tool wrapper sees it. */
export interface Principal {
  /** The API key's id, or "local" for stdio and unauthenticated loopback HTTP. */
  readonly id: string;
  readonly tenant: string;
  readonly role: Role;
  /** The namespaces this principal may name, the first being its default; null for all. */
  readonly namespaces: readonly string[] | null;
  /** Where the connection came from (HTTP), or null (stdio). */
  readonly remoteAddress: string | null;
  /** When its credential (an API key or a bearer token) expires, in ms since the epoch; absent or null: never. */
  readonly expiresAt?: number | null;
}

/** stdio, and loopback HTTP while no key is required: the machine's own user, with every right. */
export const LOCAL_PRINCIPAL: Principal = { id: 'local', tenant: LOCAL_TENANT, role: 'admin', namespaces: null, remoteAddress: null };

/** Whether `role` includes everything `needed` may do. */
export const roleIncludes = (role: Role, needed: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(needed);
