import { createRequire } from 'node:module';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { newId } from './domain/ids.js';
import { LOCAL_PRINCIPAL, type Principal } from './domain/principal.js';
import type { Runtime } from './runtime.js';
import { TOOLS } from './tools/index.js';
import { registerTools, type RegisterOptions } from './tools/register-tools.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;

const INSTRUCTIONS = `Pinak Memory is a durable memory for this agent.
Call search_memory before starting work to recall facts, preferences, past events and lessons from similar goals.
Store what is worth keeping with remember (facts: semantic; events and turns: episodic; how-tos: procedural).
Track work with remember_goal (goals and plans) and close it with record_outcome (result, summary, lessons).`;

export interface CreatedServer {
  readonly server: Server;
  readonly sessionId: string;
  close(): Promise<void>;
}

/**
 * One MCP server for one connection, over a shared runtime (its tenant's), for
 * one principal. Every transport (stdio, HTTP) and the in-memory tests build
 * their server here; stdio is the local principal.
 */
export function createServer(
  runtime: Runtime,
  principal: Principal = LOCAL_PRINCIPAL,
  options: Pick<RegisterOptions, 'signalFor' | 'clientInfo'> & { sessionId?: string | undefined } = {},
): CreatedServer {
  const server = new Server(
    { name: 'pinak-memory', title: 'Pinak Memory', version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  // A session served by several servers in turn (one per request, on any replica) keeps one id in the audit trail.
  const { sessionId = newId(), ...rest } = options;
  registerTools(server, TOOLS, { deps: { memory: runtime.memory }, audit: runtime.audit, logger: runtime.logger, sessionId, gate: runtime.gate, principal, observe: runtime.metrics.toolCall, ...rest });
  // A client can cause these at will (stray responses, bad messages): sampled, and clipped like every log value.
  server.onerror = (error) => runtime.warnings.warn('protocol error', { err: error, tenant: principal.tenant }, 'protocol error');
  return { server, sessionId, close: () => server.close() };
}
