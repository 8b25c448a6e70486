import { MemoryError } from '../domain/errors.js';
import { Namespace } from '../domain/fields.js';
import { ROLES, TENANT_PATTERN, tenantNameProblem, type Role } from '../domain/principal.js';
import type { ApiKey, NewKey } from './key-store.js';

const invalid = (message: string): MemoryError => new MemoryError('invalid_input', message);

/** A tenant name as given on the command line, naming a tenant that may already exist (audit export). */
export function parseTenant(text: string | undefined): string {
  if (text === undefined) throw invalid('--tenant is required: the tenant the key belongs to (e.g. --tenant acme)');
  if (!TENANT_PATTERN.test(text)) throw invalid(`invalid --tenant ${JSON.stringify(text)}: use 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit`);
  return text;
}

/** The tenant of a new key: also refused when its directory could not exist on every platform. */
function parseNewTenant(text: string | undefined): string {
  const tenant = parseTenant(text);
  const problem = tenantNameProblem(tenant);
  if (problem !== null) throw invalid(`invalid --tenant ${JSON.stringify(tenant)}: ${problem}`);
  return tenant;
}

const DURATION = /^(\d{1,6})([mhdw])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `--expires`: an ISO 8601 time in the future, or a duration from now (30m, 12h, 30d, 2w). */
export function parseExpiry(text: string | undefined, now: Date): string | null {
  if (text === undefined) return null;
  const duration = DURATION.exec(text);
  const at = duration ? now.getTime() + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS] : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw invalid(`invalid --expires ${JSON.stringify(text)}: use an ISO 8601 time (2026-01-31T00:00:00Z) or a duration such as 30d, 12h, 90m or 2w`);
  if (at <= now.getTime()) throw invalid(`invalid --expires ${JSON.stringify(text)}: the time is not in the future`);
  return new Date(at).toISOString();
}

/** `--namespaces a,b`: the namespaces a key may use, the first being its default. */
export function parseNamespaces(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  const names = [...new Set(text.split(',').map((n) => n.trim()).filter((n) => n !== ''))];
  if (names.length === 0) throw invalid('invalid --namespaces "": list one or more namespaces, comma separated (e.g. --namespaces project-x,shared)');
  for (const name of names) {
    if (name === '*' || !Namespace.safeParse(name).success) throw invalid(`invalid --namespaces entry ${JSON.stringify(name)}: letters, digits and . _ : / - only, starting with a letter or digit`);
  }
  return names;
}

/** Everything `keys create` needs, checked. */
export function parseNewKey(flags: { tenant?: string; role?: string; namespaces?: string; expires?: string; name?: string }, now: Date): NewKey {
  const tenant = parseNewTenant(flags.tenant);
  if (flags.role === undefined) throw invalid(`--role is required: ${ROLES.join(', ')}`);
  if (!(ROLES as readonly string[]).includes(flags.role)) throw invalid(`invalid --role ${JSON.stringify(flags.role)}: use ${ROLES.join(', ')}`);
  const name = flags.name?.trim();
  if (name !== undefined && !/^[^\p{Cc}]{1,100}$/u.test(name)) throw invalid('invalid --name: use 1 to 100 printable characters');
  return { tenant, role: flags.role as Role, namespaces: parseNamespaces(flags.namespaces), expires_at: parseExpiry(flags.expires, now), name: name ?? null };
}

/** `keys list` as a table: never the key, only what identifies and limits it. */
export function keyTable(keys: readonly ApiKey[]): string {
  const header = ['id', 'name', 'tenant', 'role', 'namespaces', 'created', 'expires', 'revoked', 'last used'];
  const rows = keys.map((k) => [k.id, k.name ?? '-', k.tenant, k.role, k.namespaces?.join(',') ?? '*', k.created_at, k.expires_at ?? 'never', k.revoked_at ?? '-', k.last_used_at ?? 'never']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
