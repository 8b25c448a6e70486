import { describe, expect, it } from 'vitest';
import { escapeLabelValue, formatValue, renderExposition } from '../../src/metrics/exposition.js';
import { Counter, Histogram } from '../../src/metrics/instruments.js';
import { ServerMetrics, type MetricsSnapshot } from '../../src/metrics/server-metrics.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';

const SNAPSHOT: MetricsSnapshot = {
  version: '9.9.9',
  sessions: { streamable: 2, sse: 1 },
  toolCallsInFlight: 0,
  tenants: [
    { tenant: 'local', vectors: 10, indexBacklog: 3, embeddingQueue: 0 },
    { tenant: 'acme', vectors: null, indexBacklog: null, embeddingQueue: null },
  ],
  process: { residentBytes: 123_456, heapUsedBytes: 789, startTimeSeconds: 1_700_000_000 },
};

describe('Prometheus exposition', () => {
  it('escapes label values and help text, spells special numbers, and refuses bad names', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(NaN), formatValue(0.25), formatValue(3)]).toEqual(['+Inf', '-Inf', 'NaN', '0.25', '3']);
    const text = renderExposition([{ name: 'x_total', help: 'two\nlines \\ here', type: 'counter', samples: [{ name: 'x_total', labels: { path: 'a"b\\c\nd' }, value: 2 }] }]);
    expect(text).toBe('# HELP x_total two\\nlines \\\\ here\n# TYPE x_total counter\nx_total{path="a\\"b\\\\c\\nd"} 2\n');
    expect(parsePrometheusText(text).samples[0]).toEqual({ name: 'x_total', labels: { path: 'a"b\\c\nd' }, value: 2 });
    expect(() => renderExposition([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(/invalid metric name/);
    expect(() => renderExposition([{ name: 'g', help: '', type: 'gauge', samples: [{ name: 'g', labels: { 'bad-label': 'v' }, value: 1 }] }])).toThrow(/invalid metric label/);
  });

  it('counts per label set, and histogram buckets are cumulative with sum and count', () => {
    const counter = new Counter('c_total', 'help');
    counter.inc({ tool: 'a' });
    counter.inc({ tool: 'a' }, 2);
    counter.inc({ tool: 'b' });
    expect(counter.family().samples.map((s) => [s.labels.tool, s.value])).toEqual([['a', 3], ['b', 1]]);
    const histogram = new Histogram('h_seconds', 'help', [0.01, 0.1, 1]);
    for (const v of [0.005, 0.01, 0.05, 0.5, 7]) histogram.observe({ tool: 'a' }, v);
    const scrape = parsePrometheusText(renderExposition([histogram.family()]));
    expect(scrape.samples.filter((s) => s.name === 'h_seconds_bucket').map((s) => [s.labels.le, s.value])).toEqual([['0.01', 2], ['0.1', 3], ['1', 4], ['+Inf', 5]]);
    expect(scrape.value('h_seconds_sum', { tool: 'a' })).toBeCloseTo(7.565);
    expect(scrape.value('h_seconds_count', { tool: 'a' })).toBe(5);
    expect(() => new Histogram('h', 'help', [1, 1])).toThrow(/increase/);
  });

  it('renders the server metrics: calls, errors, latency per tool; unknown tool names share one label', () => {
    const metrics = new ServerMetrics();
    metrics.toolCall({ tool: 'remember', status: 'ok', code: null, durationMs: 3 });
    metrics.toolCall({ tool: 'remember', status: 'invalid', code: 'invalid_input', durationMs: 1 });
    metrics.toolCall({ tool: null, status: 'invalid', code: 'unknown_tool', durationMs: 0.2 });
    metrics.toolCall({ tool: null, status: 'invalid', code: 'unknown_tool', durationMs: 0.2 });
    metrics.refused('no_key');
    const scrape = parsePrometheusText(metrics.render(SNAPSHOT));
    expect(scrape.value('pinak_tool_calls_total', { tool: 'remember', status: 'ok' })).toBe(1);
    expect(scrape.value('pinak_tool_calls_total', { tool: 'unknown', status: 'invalid' })).toBe(2);
    expect(scrape.value('pinak_tool_errors_total', { tool: 'remember', code: 'invalid_input' })).toBe(1);
    expect(scrape.value('pinak_tool_call_duration_seconds_count', { tool: 'remember' })).toBe(2);
    expect(scrape.value('pinak_tool_call_duration_seconds_bucket', { tool: 'remember', le: '0.001' })).toBe(1);
    expect(scrape.value('pinak_http_requests_refused_total', { reason: 'no_key' })).toBe(1);
    expect(scrape.value('pinak_http_sessions', { transport: 'sse' })).toBe(1);
    expect(scrape.value('pinak_open_tenants')).toBe(2);
    expect(scrape.value('pinak_vector_index_backlog', { tenant: 'local' })).toBe(3);
    expect(scrape.value('pinak_vector_index_vectors', { tenant: 'acme' })).toBeUndefined();
    expect(scrape.value('process_resident_memory_bytes')).toBe(123_456);
    expect(scrape.value('pinak_build_info', { version: '9.9.9' })).toBe(1);
    expect(scrape.types.get('pinak_tool_call_duration_seconds')).toBe('histogram');
  });
});
