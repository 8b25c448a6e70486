import { createRequire } from 'node:module';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { Icon } from '@modelcontextprotocol/sdk/types.js';
import { newId } from './domain/ids.js';
import { LOCAL_PRINCIPAL, type Principal } from './domain/principal.js';
import type { Runtime } from './runtime.js';
import { registerClientLog, type ClientLogOptions } from './surface/client-log.js';
import { registerPrompts } from './surface/prompts.js';
import { registerResources } from './surface/resources.js';
import { auditedRequests } from './tools/audited-request.js';
import { TOOLS } from './tools/index.js';
import { clientOf, registerTools, type RegisterOptions } from './tools/register-tools.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;

const INSTRUCTIONS = `Pinak Memory is a durable memory for this agent.
Call search_memory before starting work to recall facts, preferences, past events and lessons from similar goals.
Store what is worth keeping with remember (facts: semantic; events and turns: episodic; how-tos: procedural).
Track work with remember_goal (goals and plans) and close it with record_outcome (result, summary, lessons).`;

/** The server's icon: a small SVG (a ring around a point), as a data URI so no client has to fetch anything. */
const ICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#2f2a6b"/><circle cx="32" cy="32" r="17" fill="none" stroke="#f2c14e" stroke-width="5"/><circle cx="32" cy="32" r="6" fill="#f2c14e"/></svg>';
export const ICONS: Icon[] = [{ src: `data:image/svg+xml;base64,${Buffer.from(ICON_SVG).toString('base64')}`, mimeType: 'image/svg+xml', sizes: ['any'] }];

export interface CreatedServer {
  readonly server: Server;
  readonly sessionId: string;
  close(): Promise<void>;
  /** Stop what the server listens to beyond its transport (its tenant's notices): call once it has closed. */
  dispose(): void;
}

export type CreateServerOptions = Pick<RegisterOptions, 'signalFor' | 'clientInfo'> & {
  sessionId?: string | undefined;
  /** The session's logging level and where to keep a new one (see surface/client-log.ts). */
  log?: ClientLogOptions | undefined;
};

/**
 * One MCP server for one connection, over a shared runtime (its tenant's), for
 * one principal. Every transport (stdio, HTTP) and the in-memory tests build
 * their server here; stdio is the local principal. Tools, resources, prompts
 * with completions, and logging: every read of records goes through the tool
 * wrapper's checks (role, namespaces) and leaves an audit row.
 */
/**
 * One JSON Schema validator for every server of the process: the SDK makes a
 * new Ajv per Server otherwise (about 8 % of a request's CPU when each POST
 * gets a fresh server, as with shared sessions), and its compiled schemas
 * are cached per schema, not per server.
 */
const JSON_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

export function createServer(runtime: Runtime, principal: Principal = LOCAL_PRINCIPAL, options: CreateServerOptions = {}): CreatedServer {
  const server = new Server(
    { name: 'pinak-memory', title: 'Pinak Memory', version: VERSION, icons: ICONS },
    { capabilities: { tools: {}, resources: {}, prompts: {}, completions: {}, logging: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: JSON_SCHEMA_VALIDATOR },
  );
  // A session served by several servers in turn (one per request, on any replica) keeps one id in the audit trail.
  const { sessionId = newId(), log: logOptions, ...rest } = options;
  const log = registerClientLog(server, runtime.notices, logOptions);
  const registered: RegisterOptions = { deps: { memory: runtime.memory }, audit: runtime.audit, logger: runtime.logger, sessionId, gate: runtime.gate, principal, observe: runtime.metrics.toolCall, observeRequest: runtime.metrics.request, log, ...rest };
  registerTools(server, TOOLS, registered);
  const requests = auditedRequests(TOOLS, registered, clientOf(server, options.clientInfo));
  const signalFor = (extra: { requestId: string | number; signal: AbortSignal }): AbortSignal => options.signalFor?.(extra.requestId) ?? extra.signal;
  registerResources(server, principal, requests, signalFor);
  registerPrompts(server, principal, requests, signalFor);
  // A client can cause these at will (stray responses, bad messages): sampled, and clipped like every log value.
  server.onerror = (error) => runtime.warnings.warn('protocol error', { err: error, tenant: principal.tenant }, 'protocol error');
  return {
    server,
    sessionId,
    close: async () => {
      log.dispose();
      await server.close();
    },
    dispose: () => log.dispose(),
  };
}
