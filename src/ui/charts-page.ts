import { LAYERS } from '../domain/memory.js';
import type { NumberedAuditRow } from '../store/store.js';
import { horizontalBars, progressBar, quantile, stackedBars } from './charts.js';
import { html, type Html } from './html.js';
import { mayReadAudit, page } from './layout.js';
import type { PageRequest } from './page-request.js';

/** Days of memories shown, and the most audit rows the call charts summarise (the newest). */
const TIMELINE_DAYS = 30;
const CALL_ROWS = 2000;
const CALL_PAGE = 500;

interface Stats {
  memories_total: number;
  embedding: { model_id: string | null; records: number; embedded: number; vectors_indexed: number; index_backlog: number; index_start: string | null; note: string | null };
}

function dayLabels(since: Date, days: number): string[] {
  return Array.from({ length: days }, (_, i) => new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10));
}

async function memoriesChart(req: PageRequest): Promise<Html> {
  const since = new Date(Date.now() - (TIMELINE_DAYS - 1) * 86_400_000);
  const from = since.toISOString().slice(0, 10);
  const rows = await req.runtime.store.memoryTimeline(from, req.frame.principal.namespaces);
  const byDay = new Map<string, Record<string, number>>();
  for (const row of rows) byDay.set(row.day, { ...byDay.get(row.day), [row.layer]: row.count });
  const columns = dayLabels(new Date(`${from}T00:00:00Z`), TIMELINE_DAYS).map((day) => ({ label: day.slice(5), values: byDay.get(day) ?? {} }));
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  return html`<h2>Memories stored per day, by layer (last ${TIMELINE_DAYS} days: ${total})</h2>
<div class="legend">${LAYERS.map((l) => html`<span><i class="${l}"></i>${l}</span>`)}</div>${stackedBars('Memories per day and layer', columns, LAYERS)}`;
}

/** The newest calls (at most CALL_ROWS), read a page at a time, in the principal's namespaces. */
async function recentCalls(req: PageRequest): Promise<NumberedAuditRow[]> {
  const rows: NumberedAuditRow[] = [];
  let before: number | undefined;
  while (rows.length < CALL_ROWS) {
    const page = await req.runtime.store.readAudit({ limit: CALL_PAGE, namespaces: req.frame.principal.namespaces, ...(before === undefined ? {} : { before }) });
    rows.push(...page);
    if (page.length < CALL_PAGE) break;
    before = page[page.length - 1]!.seq;
  }
  return rows;
}

function callCharts(rows: readonly NumberedAuditRow[]): Html {
  const byTool = new Map<string, { durations: number[]; errors: number }>();
  for (const row of rows) {
    const entry = byTool.get(row.tool) ?? { durations: [], errors: 0 };
    entry.durations.push(row.duration_ms);
    if (row.status !== 'ok') entry.errors += 1;
    byTool.set(row.tool, entry);
  }
  const tools = [...byTool].sort(([, a], [, b]) => b.durations.length - a.durations.length).slice(0, 20);
  const counts = tools.map(([tool, e]) => ({ label: tool, value: e.durations.length, note: `${e.durations.length} calls, ${e.errors} not ok` }));
  const latency = tools.map(([tool, e]) => {
    const sorted = [...e.durations].sort((a, b) => a - b);
    const p50 = quantile(sorted, 0.5);
    const p95 = quantile(sorted, 0.95);
    return { label: tool, value: p50, second: p95, note: `p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms` };
  });
  const hours = new Map<string, Record<string, number>>();
  for (const row of [...rows].reverse()) {
    const hour = row.at.slice(0, 13);
    const entry = hours.get(hour) ?? {};
    entry[row.status] = (entry[row.status] ?? 0) + 1;
    hours.set(hour, entry);
  }
  const columns = [...hours].slice(-48).map(([hour, values]) => ({ label: `${hour.slice(5, 10)} ${hour.slice(11)}h`, values }));
  return html`<h2>Calls per hour, by status (the newest ${rows.length} calls)</h2>
<div class="legend"><span><i class="ok"></i>ok</span><span><i class="invalid"></i>invalid</span><span><i class="error"></i>error</span></div>${stackedBars('Calls per hour by status', columns, ['ok', 'invalid', 'error'])}
<h2>Calls per tool</h2>${horizontalBars('Calls per tool', counts)}
<h2>Latency per tool</h2><div class="legend"><span><i class="bar"></i>median</span><span><i class="p95"></i>95th percentile</span></div>${horizontalBars('Latency per tool', latency)}`;
}

function embeddingChart(stats: Stats): Html {
  const e = stats.embedding;
  if (!e.model_id) return html`<h2>Embeddings</h2><p class="meta">No embedding model is active${e.note ? `: ${e.note}` : ''}.</p>`;
  return html`<h2>Embedding and index progress (${e.model_id})</h2>
<p class="meta">Records with a vector of the active model:</p>${progressBar('Records embedded', e.embedded, e.records)}
<p class="meta">Vectors in the search index (backlog not yet in its graph: ${e.index_backlog}; started from ${e.index_start ?? 'the database'}):</p>${progressBar('Vectors indexed', e.vectors_indexed, e.embedded)}`;
}

export async function chartsPage(req: PageRequest): Promise<Html> {
  const parts: Html[] = [await memoriesChart(req)];
  if (req.frame.principal.namespaces === null) {
    const stats = await req.tools.call<Stats>('memory_stats', {});
    if (stats.ok) parts.push(embeddingChart(stats.value));
  }
  if (mayReadAudit(req.frame)) parts.push(callCharts(await recentCalls(req)));
  else parts.push(html`<p class="meta">Calls and latency per tool come from the audit trail, which admins see.</p>`);
  return page(req.frame, 'Charts', html`<h1>Charts</h1>${parts}`);
}
