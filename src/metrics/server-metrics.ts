import { renderExposition, type MetricFamily } from './exposition.js';
import { Counter, gauge, Histogram } from './instruments.js';

/** One finished tool call, as the tool wrapper reports it. */
export interface ToolCallEvent {
  /** The tool's name, or null for a name that is not one of ours (never used as a label: clients choose it). */
  readonly tool: string | null;
  readonly status: 'ok' | 'invalid' | 'error';
  /** The failure's code (invalid_input, not_found, forbidden, …), null on success. */
  readonly code: string | null;
  readonly durationMs: number;
}

/** One finished MCP request other than a tool call (resources/list, resources/read, prompts/get, completion/complete). */
export interface RequestEvent {
  /** The method: one of the server's own handlers, never a name a client chose. */
  readonly method: string;
  readonly status: 'ok' | 'invalid' | 'error';
  readonly durationMs: number;
}

/** What is read at scrape time rather than counted. */
export interface MetricsSnapshot {
  readonly version: string;
  readonly sessions: Readonly<Record<'streamable' | 'sse', number>>;
  readonly toolCallsInFlight: number;
  /** Each tenant with an open runtime; null where it has no vector index (embed model "none"). */
  readonly tenants: ReadonlyArray<{ tenant: string; vectors: number | null; indexBacklog: number | null; embeddingQueue: number | null }>;
  readonly process: { residentBytes: number; heapUsedBytes: number; startTimeSeconds: number };
}

/** Upper bounds of the tool latency buckets, in seconds: 1 ms to 10 s. */
export const TOOL_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * The server's metrics: counters fed from one place each (the tool wrapper for
 * calls, the HTTP gate for refusals), shared by every tenant's runtime in the
 * process, and rendered with the scrape-time gauges for GET /metrics.
 */
export class ServerMetrics {
  private readonly calls = new Counter('pinak_tool_calls_total', 'Tool calls answered, by tool and status (ok, invalid: bad arguments or unknown tool, error: refused or failed).');
  private readonly errors = new Counter('pinak_tool_errors_total', 'Tool calls that did not succeed, by tool and error code.');
  private readonly seconds = new Histogram('pinak_tool_call_duration_seconds', 'Time to answer a tool call, by tool.', TOOL_SECONDS_BUCKETS);
  private readonly requests = new Counter('pinak_requests_total', 'MCP requests other than tool calls answered (resources/list, resources/read, prompts/get, completion/complete), by method and status (ok, invalid, error).');
  private readonly requestSeconds = new Histogram('pinak_request_duration_seconds', 'Time to answer an MCP request other than a tool call, by method.', TOOL_SECONDS_BUCKETS);
  private readonly refusals = new Counter(
    'pinak_http_requests_refused_total',
    'HTTP requests refused before reaching MCP, by reason (the audit row\'s error code: no_key, unknown_key, revoked_key, expired_key, bad_header, a token\'s expired_token, wrong_issuer, wrong_audience, bad_signature, bad_claims, invalid_token, jwks_unavailable; rate_limited; forbidden; host_not_allowed).',
  );

  /** Count one tool call (the wrapper calls this once per call, however it ended). */
  readonly toolCall = (event: ToolCallEvent): void => {
    const tool = event.tool ?? 'unknown';
    this.calls.inc({ tool, status: event.status });
    if (event.status !== 'ok') this.errors.inc({ tool, code: event.code ?? 'unknown' });
    this.seconds.observe({ tool }, Math.max(0, event.durationMs) / 1000);
  };

  /** Count one answered request that is not a tool call. */
  readonly request = (event: RequestEvent): void => {
    this.requests.inc({ method: event.method, status: event.status });
    this.requestSeconds.observe({ method: event.method }, Math.max(0, event.durationMs) / 1000);
  };

  /** Count one refused HTTP request. */
  readonly refused = (reason: string): void => {
    this.refusals.inc({ reason });
  };

  families(snapshot: MetricsSnapshot): MetricFamily[] {
    const perTenant = (pick: (t: MetricsSnapshot['tenants'][number]) => number | null) =>
      snapshot.tenants.flatMap((t) => {
        const value = pick(t);
        return value === null ? [] : [[{ tenant: t.tenant }, value] as const];
      });
    return [
      gauge('pinak_build_info', 'The running version; always 1.', [[{ version: snapshot.version }, 1]]),
      this.calls.family(),
      this.errors.family(),
      this.seconds.family(),
      this.requests.family(),
      this.requestSeconds.family(),
      gauge('pinak_tool_calls_in_flight', 'Tool calls running now, every tenant together.', [[{}, snapshot.toolCallsInFlight]]),
      this.refusals.family(),
      gauge('pinak_http_sessions', 'Open MCP sessions over HTTP, by transport.', [
        [{ transport: 'streamable' }, snapshot.sessions.streamable],
        [{ transport: 'sse' }, snapshot.sessions.sse],
      ]),
      gauge('pinak_open_tenants', 'Tenants whose database and index are open in this process.', [[{}, snapshot.tenants.length]]),
      gauge('pinak_vector_index_vectors', 'Vectors in the tenant\'s index.', perTenant((t) => t.vectors)),
      gauge('pinak_vector_index_backlog', 'Changes read into the tenant\'s index but not yet in its HNSW graph (answered by exact scan meanwhile).', perTenant((t) => t.indexBacklog)),
      gauge('pinak_embedding_queue', 'The tenant\'s records without a vector of the active model (waiting for background embedding).', perTenant((t) => t.embeddingQueue)),
      gauge('process_resident_memory_bytes', 'Resident set size of the server process.', [[{}, snapshot.process.residentBytes]]),
      gauge('nodejs_heap_used_bytes', 'V8 heap in use.', [[{}, snapshot.process.heapUsedBytes]]),
      gauge('process_start_time_seconds', 'When the process started, in seconds since the Unix epoch.', [[{}, snapshot.process.startTimeSeconds]]),
    ];
  }

  render(snapshot: MetricsSnapshot): string {
    return renderExposition(this.families(snapshot));
  }
}
