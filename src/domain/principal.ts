import { z } from 'zod';

/** What a principal may do; each role includes the ones before it. */
export const ROLES = ['reader', 'writer', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** The tenant of stdio and of HTTP without keys: the data directory itself. */
export const LOCAL_TENANT = 'local';

/** Tenant names: safe as a directory name on every platform, and short. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

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
