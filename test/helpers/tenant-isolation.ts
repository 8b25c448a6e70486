import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from './auth-clients.js';
import { useHttpHarness, type HttpHarness } from './http-harness.js';
import { seededRandom, sentence } from './sentences.js';
import type { HttpServer } from './spawn-http.js';

/** Set PINAK_ISOLATION_SEED to replay a run; every failure message names the seed. */
const SEED = Number(process.env.PINAK_ISOLATION_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPS_PER_CLIENT = 60;

interface Agent {
  name: string;
  tenant: string;
  /** Namespaces the key is limited to; null for all. */
  limit: string[] | null;
  /** Namespaces it writes to. */
  writes: string[];
  role: 'writer' | 'admin';
}

const AGENTS: Agent[] = [
  { name: 'acme-all', tenant: 'acme', limit: null, writes: ['red', 'blue', 'gold'], role: 'admin' },
  { name: 'acme-red', tenant: 'acme', limit: ['red'], writes: ['red'], role: 'writer' },
  { name: 'acme-blue-green', tenant: 'acme', limit: ['blue', 'green'], writes: ['blue', 'green'], role: 'admin' },
  { name: 'globex-all', tenant: 'globex', limit: null, writes: ['red', 'blue', 'gold'], role: 'admin' },
  { name: 'globex-red', tenant: 'globex', limit: ['red'], writes: ['red'], role: 'admin' },
];

/** Where every record was written: its id is unique across tenants (ULIDs). */
export type WrittenRecords = Map<string, { tenant: string; namespace: string; marker: string }>;

/** What one run of the scenario keeps: the records written, what each agent got back, and what was forgotten. */
interface Run {
  records: WrittenRecords;
  seen: Array<{ agent: Agent; op: string; id: string; namespace?: string }>;
  forgotten: Set<string>;
}

/** The backend the server keeps its tenants in: the arguments that choose it, and checks of its own after the run. */
export interface IsolationBackend {
  name: string;
  /** Called in the test, before the server starts; `defer` registers cleanups. */
  serverArgs(defer: HttpHarness['defer']): Promise<string[]>;
  /** The settings `keys create` needs to put keys where the server looks for them (called after serverArgs). */
  keyArgs?(): string[];
  /** After the run: the memories each tenant kept (written and not forgotten) are where the backend keeps that tenant's, and only there. */
  checkStorage?(kept: Map<string, number>): Promise<void>;
}

const mayUse = (agent: Agent, tenant: string, namespace: string): boolean => agent.tenant === tenant && (agent.limit === null || agent.limit.includes(namespace));

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, any> | null> {
  const result = await client.callTool({ name, arguments: args });
  return result.isError ? null : (result.structuredContent as Record<string, any>);
}

/** One agent's random mix of writes, searches, reads by id (any id of anyone), lists and forgets. */
async function run({ records, seen, forgotten }: Run, agent: Agent, client: Client, random: () => number, index: number): Promise<void> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const anyIds = (n: number): string[] => Array.from({ length: n }, () => pick([...records.keys()])).filter(Boolean);
  for (let op = 0; op < OPS_PER_CLIENT; op++) {
    const roll = random();
    const namespace = pick(agent.writes);
    const nsArg = agent.limit !== null && random() < 0.5 ? {} : { namespace };
    if (roll < 0.3 || records.size < 5) {
      const marker = `zq${index}x${op}`;
      const content = `${sentence(random)} ${marker}`;
      const result = await client.callTool({ name: 'remember', arguments: { content, ...nsArg, thread_id: `thread-${index % 2}` } });
      expect(result.isError, `remember by ${agent.name} (seed ${SEED}): ${JSON.stringify(result.content)}`).toBeFalsy();
      const stored = result.structuredContent as Record<string, any> | undefined;
      const ns = stored!.stored[0].namespace as string;
      expect(mayUse(agent, agent.tenant, ns), `seed ${SEED}`).toBe(true);
      records.set(stored!.stored[0].id, { tenant: agent.tenant, namespace: ns, marker });
    } else if (roll < 0.4) {
      const goal = await call(client, 'remember_goal', { title: `${sentence(random, 4)} goal`, ...nsArg });
      records.set(goal!.goal.id, { tenant: agent.tenant, namespace: goal!.goal.namespace, marker: '' });
    } else if (roll < 0.65) {
      // Words anyone may have used, or the unique marker of someone else's record.
      const other = records.get(pick([...records.keys()]))!;
      const query = random() < 0.5 ? sentence(random, 3) : other.marker || sentence(random, 2);
      const scope = agent.limit === null ? { namespace: pick(['*', ...agent.writes, 'green']) } : nsArg;
      const found = await call(client, 'search_memory', { query, mode: pick(['hybrid', 'keyword', 'vector']), limit: 20, context: 1, ...scope });
      for (const hit of found?.hits ?? []) {
        seen.push({ agent, op: 'search_memory', id: hit.id, namespace: hit.namespace });
        for (const near of hit.context) seen.push({ agent, op: 'search_memory context', id: near.id });
      }
    } else if (roll < 0.78) {
      const got = await call(client, 'get_memory', { ids: anyIds(5) });
      for (const memory of got?.memories ?? []) seen.push({ agent, op: 'get_memory', id: memory.id, namespace: memory.namespace });
    } else if (roll < 0.84) {
      const goal = await call(client, 'get_goal', { goal_id: pick([...records.keys()]) });
      if (goal) seen.push({ agent, op: 'get_goal', id: goal.goal.id, namespace: goal.goal.namespace });
    } else if (roll < 0.92) {
      const listed = await call(client, 'list_goals', { statuses: ['active'], limit: 100, ...(agent.limit === null ? { namespace: '*' } : nsArg) });
      for (const goal of listed?.goals ?? []) seen.push({ agent, op: 'list_goals', id: goal.id, namespace: goal.namespace });
    } else if (agent.role === 'admin') {
      const gone = await call(client, 'forget', { ids: anyIds(3) });
      for (const id of gone?.forgotten ?? []) {
        seen.push({ agent, op: 'forget', id });
        forgotten.add(id);
      }
    }
  }
}

/**
 * The randomized isolation scenario, against a server on the given backend:
 * concurrent agents of two tenants, with keys limited to some namespaces or
 * not, write, search, read any id, list and forget; none may see or touch
 * what is not its own.
 */
export function describeTenantIsolation(backend: IsolationBackend): void {
  describe(`tenant and namespace isolation over HTTP (${backend.name})`, () => {
    const { tempDataDir, start, defer } = useHttpHarness('pinak-isolation-');

    it('randomized: concurrent agents of two tenants and several namespaces never see or touch each other', async () => {
      process.stderr.write(`http-isolation (${backend.name}) seed: ${SEED} (replay with PINAK_ISOLATION_SEED=${SEED})\n`);
      const state: Run = { records: new Map(), seen: [], forgotten: new Set() };
      const { records, seen, forgotten } = state;
      const dir = tempDataDir();
      const serverArgs = await backend.serverArgs(defer);
      const keys = AGENTS.map((agent) =>
        createKey(dir, ['--tenant', agent.tenant, '--role', agent.role, ...(agent.limit ? ['--namespaces', agent.limit.join(',')] : []), ...(backend.keyArgs?.() ?? [])]),
      );
      const server: HttpServer = await start(dir, ['--rate-limit-per-minute', '0', ...serverArgs]);
      const clients = await Promise.all(AGENTS.map((agent, i) => keyedClient(server.origin, keys[i]!.key, agent.name)));
      defer(() => Promise.all(clients.map((c) => c.client.close().catch(() => {}))));

      const random = seededRandom(SEED);
      const streams = AGENTS.map(() => seededRandom(Math.floor(random() * 2 ** 31)));
      await Promise.all(AGENTS.map((agent, i) => run(state, agent, clients[i]!.client, streams[i]!, i)));

      // Every id anyone got back belongs to its tenant and allowed namespaces.
      const crossings = seen.filter(({ agent, id, namespace }) => {
        const record = records.get(id);
        return !record || !mayUse(agent, record.tenant, record.namespace) || (namespace !== undefined && namespace !== record.namespace);
      });
      expect(crossings.map((c) => `${c.agent.name} ${c.op} ${c.id}`), `seed ${SEED}`).toEqual([]);
      expect(seen.length, `seed ${SEED}: the agents found something`).toBeGreaterThan(20);

      // Counts: each tenant's stats count only its own records; limited keys may not ask.
      const kept = (tenant: string): number => [...records].filter(([id, r]) => r.tenant === tenant && r.marker !== '' && !forgotten.has(id)).length;
      for (const [i, agent] of AGENTS.entries()) {
        const stats = await clients[i]!.client.callTool({ name: 'memory_stats', arguments: {} });
        if (agent.limit !== null) {
          expect(stats.isError, `${agent.name} seed ${SEED}`).toBe(true);
          continue;
        }
        expect((stats.structuredContent as { memories_total: number }).memories_total, `${agent.name} seed ${SEED}`).toBe(kept(agent.tenant));
        // And a listing of everything it can see holds nothing of the other tenant.
        const all = (await call(clients[i]!.client, 'search_memory', { query: '', namespace: '*', limit: 100 }))!.hits as Array<{ id: string }>;
        expect(all.filter((hit) => records.get(hit.id)?.tenant !== agent.tenant), `seed ${SEED}`).toEqual([]);
      }
      await backend.checkStorage?.(new Map([...new Set(AGENTS.map((agent) => agent.tenant))].map((tenant) => [tenant, kept(tenant)])));
      expect(server.stdout()).toBe('');
      // Calls may be refused, but none fails unexpectedly (a concurrency bug of the store shows here first).
      expect(server.stderr().split('\n').filter((line) => line.includes('failed unexpectedly')).map((line) => line.slice(0, 600)), `seed ${SEED}`).toEqual([]);
    }, 120_000);
  });
}
