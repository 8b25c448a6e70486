import { roleIncludes, type Principal, type Role } from '../domain/principal.js';

/**
 * The least role that may call each tool. A tool missing here needs admin,
 * so a new tool is closed until someone decides who may call it.
 */
const LEAST_ROLE: Readonly<Record<string, Role>> = {
  search_memory: 'reader',
  get_memory: 'reader',
  get_goal: 'reader',
  list_goals: 'reader',
  memory_stats: 'reader',
  remember: 'writer',
  remember_goal: 'writer',
  record_outcome: 'writer',
  forget: 'admin',
};

/**
 * Tools a namespace-limited key may not call: store-wide counts would tell it
 * about namespaces it may not see.
 */
const NEEDS_EVERY_NAMESPACE = new Set(['memory_stats']);

/** The least role that may call a tool (what the docs' tool reference shows). */
export const leastRoleFor = (tool: string): Role => LEAST_ROLE[tool] ?? 'admin';

/** Why the principal may not call the tool, or null when it may. */
export function refusalFor(principal: Principal, tool: string): string | null {
  const needed = leastRoleFor(tool);
  if (!roleIncludes(principal.role, needed)) {
    return `forbidden: the ${principal.role} role cannot call ${tool} (it needs the ${needed} role); ask for a key with that role`;
  }
  if (principal.namespaces !== null && NEEDS_EVERY_NAMESPACE.has(tool)) {
    return `forbidden: ${tool} reports on every namespace, and this key is limited to ${principal.namespaces.map((n) => `"${n}"`).join(', ')}; use search_memory or list_goals there instead`;
  }
  return null;
}

/** Whether the principal may call the tool (what tools/list shows it). */
export const mayCall = (principal: Principal, tool: string): boolean => refusalFor(principal, tool) === null;
