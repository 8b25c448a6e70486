import { MemoryError, notFound } from '../domain/errors.js';
import type { Memory } from '../domain/memory.js';
import type { MemoryContext } from '../memory/context.js';
import { requireGoal } from '../memory/goals.js';
import { getMemories } from '../memory/records.js';

/**
 * A call of a namespace-limited principal, confined to its namespaces: the
 * arguments to run the tool with, and what to do with its answer or error.
 */
export interface ScopedCall {
  readonly input: unknown;
  output(result: unknown): unknown;
  error(error: unknown): unknown;
}

type Args = Record<string, unknown>;

const same = <T>(value: T): T => value;
const quoted = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');
const someIds = (ids: readonly string[]): string => (ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`);

/** The namespace a call may use: the one it names if allowed, the first allowed one if it names none. */
function pick(named: unknown, allowed: readonly string[]): string {
  if (named === undefined) return allowed[0]!;
  if (named === '*') throw new MemoryError('forbidden', `forbidden: namespace "*" (all namespaces) is not available to this key; it may use ${quoted(allowed)}`);
  if (typeof named === 'string' && allowed.includes(named)) return named;
  throw new MemoryError('forbidden', `forbidden: this key may not use namespace ${JSON.stringify(named)}; it may use ${quoted(allowed)}`);
}

/** The same answer a goal id that does not exist gets (see requireGoal): a foreign goal is not there. */
const goalNotFound = (id: string): MemoryError => notFound('goal', id, 'call list_goals or search_memory with types ["goal"] to find goals');

async function requireOwnGoal(ctx: MemoryContext, id: string, allowed: readonly string[]): Promise<void> {
  const goal = await requireGoal(ctx, id);
  if (!allowed.includes(goal.namespace)) throw goalNotFound(id);
}

const requestedIds = (args: Args): string[] => [...new Set([...(typeof args.id === 'string' ? [args.id] : []), ...((args.ids as string[] | undefined) ?? [])])];

/**
 * Confine one call to `allowed` namespaces. Calls naming another namespace
 * are refused; calls naming none use the first allowed one; records of other
 * namespaces, reached by id, behave exactly as records that do not exist.
 * Throws a MemoryError ("forbidden" or "not_found") when the call must not run.
 */
export async function scopeToNamespaces(tool: string, input: unknown, allowed: readonly string[], ctx: MemoryContext): Promise<ScopedCall> {
  const args = input as Args;
  const unchanged = (scopedInput: unknown): ScopedCall => ({ input: scopedInput, output: same, error: same });
  switch (tool) {
    case 'remember': {
      if (Array.isArray(args.memories)) {
        if (args.namespace !== undefined) pick(args.namespace, allowed);
        return unchanged({ ...args, memories: (args.memories as Args[]).map((m) => ({ ...m, namespace: pick(m.namespace, allowed) })) });
      }
      return unchanged({ ...args, namespace: pick(args.namespace, allowed) });
    }
    case 'remember_goal': {
      if (typeof args.goal_id !== 'string') return unchanged({ ...args, namespace: pick(args.namespace, allowed) });
      if (args.namespace !== undefined) pick(args.namespace, allowed);
      await requireOwnGoal(ctx, args.goal_id, allowed);
      return unchanged(args);
    }
    case 'record_outcome':
      await requireOwnGoal(ctx, String(args.goal_id), allowed);
      return unchanged(args);
    case 'search_memory':
      return {
        input: { ...args, namespace: pick(args.namespace, allowed) },
        // The namespace filter already confines the hits; this only makes sure.
        output: (r) => {
          const result = r as { hits: Array<{ namespace: string }> };
          return { ...result, hits: result.hits.filter((hit) => allowed.includes(hit.namespace)) };
        },
        error: same,
      };
    case 'list_goals':
      return unchanged({ ...args, namespace: pick(args.namespace, allowed) });
    case 'get_goal':
      return {
        input: args,
        output: (r) => {
          if (!allowed.includes((r as { goal: { namespace: string } }).goal.namespace)) throw goalNotFound(String(args.goal_id));
          return r;
        },
        error: same,
      };
    case 'get_memory': {
      const ids = requestedIds(args);
      return {
        input: args,
        output: (r) => {
          const memories = (r as { memories: Memory[] }).memories.filter((m) => allowed.includes(m.namespace));
          const kept = new Set(memories.map((m) => m.id));
          const missing = ids.filter((id) => !kept.has(id));
          if (memories.length === 0) throw new MemoryError('not_found', `no memory with id ${someIds(missing)}; call search_memory to find memory ids`);
          return { memories, missing };
        },
        error: same,
      };
    }
    case 'forget':
      return scopeForget(args, allowed, ctx);
    default:
      return unchanged(args);
  }
}

/** forget: ids of other namespaces are left alone and reported missing, as ids that never existed. */
async function scopeForget(args: Args, allowed: readonly string[], ctx: MemoryContext): Promise<ScopedCall> {
  const ids = [...new Set(args.ids as string[])];
  const found = await getMemories(ctx, ids).then(
    (r) => r.memories,
    (error: unknown) => {
      if (error instanceof MemoryError && error.code === 'not_found') return [];
      throw error;
    },
  );
  const own = new Set(found.filter((m) => allowed.includes(m.namespace)).map((m) => m.id));
  return {
    // Possibly no id at all: the call still runs (and claims its idempotency key), deleting nothing.
    input: { ...args, ids: ids.filter((id) => own.has(id)) },
    output: (r) => {
      const gone = new Set((r as { forgotten: string[] }).forgotten);
      return { forgotten: ids.filter((id) => gone.has(id)), missing: ids.filter((id) => !gone.has(id)) };
    },
    error: same,
  };
}
