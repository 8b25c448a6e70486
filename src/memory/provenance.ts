import type { Origin, Provenance } from '../domain/provenance.js';
import type { SecretGuard } from '../firewall/secret-guard.js';
import type { Caller } from './context.js';

/** The origin of what a tool call stores when it names none: the agent's own words. */
export const TOOL_CALL_ORIGIN: Origin = 'agent';

/**
 * The provenance of a new record: the origin the caller gave, else its
 * default (an import's `import`; a tool call's `agent`); the reference it
 * gave, checked for secrets like any text the write stores; and the
 * principal that writes it.
 */
export async function provenanceFor(guard: SecretGuard, caller: Caller, given: { origin?: Origin | undefined; origin_ref?: string | undefined }, where = ''): Promise<Provenance> {
  return {
    origin: given.origin ?? caller.defaultOrigin ?? TOOL_CALL_ORIGIN,
    origin_ref: given.origin_ref === undefined ? null : await guard.reference(`${where}origin_ref`, given.origin_ref),
    written_by: caller.principalId ?? null,
  };
}
