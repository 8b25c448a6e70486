import { Namespace } from '../domain/fields.js';
import { LOCAL_TENANT, ROLES, TENANT_PATTERN, tenantNameProblem, type Principal, type Role } from '../domain/principal.js';

/** Which claims of a verified token name its tenant, role and (optionally) namespaces. */
export interface ClaimNames {
  tenant: string;
  role: string;
  /** When set, every token must carry it: a list of namespaces, or "*" for all. */
  namespaces: string | null;
}

export interface TenantOptions {
  /**
   * Whether a token may name the tenant `local`: the data directory itself,
   * stdio's data, and with an admin role the operator's /metrics. Off unless
   * the operator allows it.
   */
  allowLocalTenant?: boolean;
}

export type ClaimMapping = { ok: true; principal: Omit<Principal, 'remoteAddress'> } | { ok: false; message: string };

/** Principal ids of tokens start with this, so they never collide with API key ids (ULIDs) or "local". */
export const TOKEN_PRINCIPAL_PREFIX = 'jwt:';

/** A `sub` short enough for an audit column and free of control characters. */
const SUBJECT = /^[^\p{Cc}]{1,200}$/u;

/**
 * A claim by its name: the top-level member of that name (names may hold dots,
 * as URL-style claim names do), else a dotted path into nested objects
 * (`realm_access.roles`).
 */
export function claimAt(payload: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The tenant a verified token names, if it is a valid tenant name (for the audit row of a refused token). */
export function tenantClaim(payload: Readonly<Record<string, unknown>>, names: Pick<ClaimNames, 'tenant'>): string | null {
  const value = claimAt(payload, names.tenant);
  return typeof value === 'string' && TENANT_PATTERN.test(value) ? value : null;
}

/** The subject of a verified token as a principal id, or null when it has none usable. */
export function subjectOf(payload: Readonly<Record<string, unknown>>): string | null {
  return typeof payload.sub === 'string' && SUBJECT.test(payload.sub) ? TOKEN_PRINCIPAL_PREFIX + payload.sub : null;
}

/** A role claim: one role name, or a list in which the highest role named counts (other entries are ignored). */
function roleOf(value: unknown): Role | null {
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const known = ROLES.filter((role) => names.includes(role));
  return known.at(-1) ?? null;
}

/** A namespaces claim: a list, or a comma- or space-separated string; "*" alone for every namespace. */
function namespacesOf(value: unknown): string[] | null | 'invalid' {
  const list = typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : null;
  if (list === null) return 'invalid';
  const names = [...new Set(list.map((n) => n.trim()).filter((n) => n !== ''))];
  if (names.length === 1 && names[0] === '*') return null;
  if (names.length === 0 || names.length > 100 || names.some((n) => !Namespace.safeParse(n).success)) return 'invalid';
  return names;
}

/**
 * The principal a verified token stands for: `jwt:<sub>`, of the tenant and
 * role its claims name. Anything missing or malformed refuses the token with
 * a message naming the claim (never its value).
 */
export function principalFromClaims(payload: Readonly<Record<string, unknown>>, names: ClaimNames, options: TenantOptions = {}): ClaimMapping {
  const id = subjectOf(payload);
  if (id === null) return { ok: false, message: 'the bearer token has no usable subject (sub claim)' };
  const tenant = tenantClaim(payload, names);
  if (tenant === null) {
    return { ok: false, message: `the bearer token's "${names.tenant}" claim must name a tenant (1 to 63 lower-case letters, digits, _ or -)` };
  }
  if (tenant === LOCAL_TENANT && options.allowLocalTenant !== true) {
    return {
      ok: false,
      message: `the bearer token's "${names.tenant}" claim names the tenant "local", the server's own data directory, which tokens may not reach; use a token of another tenant (an operator may allow it with --jwt-allow-local-tenant)`,
    };
  }
  const reserved = tenantNameProblem(tenant);
  if (reserved !== null) return { ok: false, message: `the bearer token's "${names.tenant}" claim cannot name this tenant: ${reserved}` };
  const role = roleOf(claimAt(payload, names.role));
  if (role === null) return { ok: false, message: `the bearer token's "${names.role}" claim must name a role: ${ROLES.join(', ')}` };
  let namespaces: string[] | null = null;
  if (names.namespaces !== null) {
    const found = namespacesOf(claimAt(payload, names.namespaces));
    if (found === 'invalid') {
      return { ok: false, message: `the bearer token's "${names.namespaces}" claim must list namespaces (letters, digits and . _ : / -), or be "*" for all` };
    }
    namespaces = found;
  }
  return { ok: true, principal: { id, tenant, role, namespaces } };
}
