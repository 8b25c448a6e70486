import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../../domain/principal.js';
import { LOCAL_TENANT } from '../../domain/principal.js';
import { EXPOSITION_CONTENT_TYPE } from '../../metrics/exposition.js';
import type { MetricsSnapshot } from '../../metrics/server-metrics.js';
import type { Runtime } from '../../runtime.js';
import { VERSION } from '../../server.js';
import { admit, auditRefusal } from './auth-gate.js';
import type { HttpContext } from './context.js';
import { RPC, sendRpcError } from './responses.js';

/**
 * Why this principal may not read the metrics, or null when it may. They are
 * the server operator's: they count every tenant's calls and name the open
 * tenants, so only an admin of the local tenant without a namespace limit
 * (or the local principal, while no key is required) reads them.
 */
export function metricsRefusal(principal: Principal): string | null {
  if (principal.role === 'admin' && principal.tenant === LOCAL_TENANT && principal.namespaces === null) return null;
  const what = `${principal.role} of tenant ${principal.tenant}${principal.namespaces === null ? '' : ' limited to some namespaces'}`;
  return `Forbidden: /metrics needs an admin key of the local tenant with every namespace (this one is a ${what}); create one with pinak-memory keys create --tenant local --role admin`;
}

/**
 * How often a tenant's embedding queue is counted again. Counting reads two
 * indexes in full (about 80 ms at a million records, on the event loop), so
 * scrapes in between reuse the last count.
 */
const EMBEDDING_QUEUE_REFRESH_MS = 30_000;
const queueCounts = new WeakMap<Runtime, { at: number; value: number }>();

async function embeddingQueue(tenant: string, runtime: Runtime, modelKey: string): Promise<number | null> {
  const cached = queueCounts.get(runtime);
  if (cached && performance.now() - cached.at < EMBEDDING_QUEUE_REFRESH_MS) return cached.value;
  try {
    const progress = await runtime.store.embeddingProgress(modelKey);
    const value = Math.max(0, progress.docs - progress.embedded);
    queueCounts.set(runtime, { at: performance.now(), value });
    return value;
  } catch (error) {
    runtime.logger.warn({ err: error, tenant }, 'metrics: could not read the embedding progress');
    return null;
  }
}

/** One tenant's index gauges; nulls where it has no vector index or its store could not be read. */
async function tenantGauges(tenant: string, runtime: Runtime): Promise<MetricsSnapshot['tenants'][number]> {
  const index = runtime.memory.vectors?.stats() ?? null;
  const model = runtime.memory.embedder?.model ?? null;
  const queue = index && model ? await embeddingQueue(tenant, runtime, model.key) : null;
  return { tenant, vectors: index?.vectors ?? null, indexBacklog: index?.backlog ?? null, embeddingQueue: queue };
}

async function snapshot(ctx: HttpContext): Promise<MetricsSnapshot> {
  const memory = process.memoryUsage();
  return {
    version: VERSION,
    // With sessions in the database, the Streamable HTTP ones are the deployment's (no replica holds them).
    sessions: ctx.directory ? { ...ctx.registry.counts(), streamable: await ctx.directory.count() } : ctx.registry.counts(),
    toolCallsInFlight: ctx.runtime.gate.active,
    tenants: await Promise.all(ctx.tenants.openNow().map(({ tenant, runtime }) => tenantGauges(tenant, runtime))),
    process: { residentBytes: memory.rss, heapUsedBytes: memory.heapUsed, startTimeSeconds: Math.round(Date.now() / 1000 - process.uptime()) },
  };
}

/** `GET /metrics`: the Prometheus text exposition, for the operator's admin key; 401 without a valid key, 403 for any other. */
export async function serveMetrics(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const principal = await admit(ctx, req, res, path);
  if (!principal) return;
  const refusal = metricsRefusal(principal);
  if (refusal !== null) {
    const remote = req.socket.remoteAddress ?? null;
    await auditRefusal(ctx, req, path, remote, { code: 'forbidden', keyId: principal.id, tenant: principal.tenant }, 'error');
    ctx.runtime.logger.warn({ keyId: principal.id, tenant: principal.tenant, role: principal.role, remote, path }, 'HTTP request refused: metrics need the operator\'s admin key');
    return sendRpcError(res, 403, RPC.serverError, refusal);
  }
  const text = ctx.runtime.metrics.render(await snapshot(ctx));
  res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
