import { html, type Html } from './html.js';

/** A stacked bar per column (a day or an hour), one segment per series; classes colour the series (see the stylesheet). */
export function stackedBars(title: string, columns: ReadonlyArray<{ label: string; values: Readonly<Record<string, number>> }>, series: readonly string[]): Html {
  const width = 760;
  const height = 220;
  const left = 40;
  const bottom = 30;
  const plotH = height - bottom - 10;
  const max = Math.max(1, ...columns.map((c) => series.reduce((sum, s) => sum + (c.values[s] ?? 0), 0)));
  const step = columns.length ? (width - left - 10) / columns.length : 0;
  const bar = Math.max(1, Math.min(step * 0.8, 48));
  const labelEvery = Math.max(1, Math.ceil(columns.length / 12));
  const bars = columns.map((column, i) => {
    let y = 10 + plotH;
    const x = left + i * step;
    const segments = series.map((name) => {
      const value = column.values[name] ?? 0;
      if (value <= 0) return '';
      const h = (value / max) * plotH;
      y -= h;
      return html`<rect class="${name}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}"><title>${column.label} ${name}: ${value}</title></rect>`;
    });
    const label = i % labelEvery === 0 ? html`<text x="${x.toFixed(1)}" y="${height - 12}">${column.label}</text>` : '';
    return html`${segments}${label}`;
  });
  return html`<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>
<text x="4" y="16">${max}</text><text x="4" y="${10 + plotH}">0</text>
<line x1="${left}" y1="${10 + plotH}" x2="${width - 10}" y2="${10 + plotH}" stroke="currentColor" stroke-opacity="0.3"/>
${bars}${columns.length === 0 ? html`<text x="${left}" y="${height / 2}">nothing in this period</text>` : ''}</svg>`;
}

/** Horizontal bars, one row per label, with up to two values each (e.g. median and 95th percentile latency). */
export function horizontalBars(title: string, rows: ReadonlyArray<{ label: string; value: number; second?: number; note: string }>, classes: [string, string?] = ['bar']): Html {
  const width = 760;
  const rowH = 22;
  const left = 170;
  const right = 175;
  const height = Math.max(40, rows.length * rowH + 16);
  const max = Math.max(1e-9, ...rows.map((r) => Math.max(r.value, r.second ?? 0)));
  const scale = (value: number): number => (value / max) * (width - left - right);
  const body = rows.map((row, i) => {
    const y = 8 + i * rowH;
    const second = row.second === undefined ? '' : html`<rect class="${classes[1] ?? 'p95'}" x="${left}" y="${y}" width="${scale(row.second).toFixed(1)}" height="${rowH - 6}"/>`;
    return html`<text x="4" y="${y + 13}">${row.label.slice(0, 28)}</text>${second}<rect class="${classes[0]}" x="${left}" y="${y}" width="${scale(row.value).toFixed(1)}" height="${rowH - 6}"><title>${row.label}: ${row.note}</title></rect><text x="${width - right + 6}" y="${y + 13}">${row.note}</text>`;
  });
  return html`<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>${body}${rows.length === 0 ? html`<text x="4" y="24">no calls in this period</text>` : ''}</svg>`;
}

/** One progress bar: done of total. */
export function progressBar(title: string, done: number, total: number): Html {
  const width = 760;
  const share = total > 0 ? Math.min(1, done / total) : 1;
  return html`<svg class="chart" role="img" viewBox="0 0 ${width} 34" xmlns="http://www.w3.org/2000/svg"><title>${title}</title><rect class="track" x="4" y="8" width="${width - 170}" height="16"/><rect class="ok" x="4" y="8" width="${((width - 170) * share).toFixed(1)}" height="16"/><text x="${width - 160}" y="21">${done} of ${total} (${Math.round(share * 100)} %)</text></svg>`;
}

/** The value below which a share `q` of the sorted values lie. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
