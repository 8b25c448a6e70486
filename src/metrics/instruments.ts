import type { Labels, MetricFamily, Sample } from './exposition.js';

/** A stable key for a label set (label names are fixed per instrument, so their order is too). */
const keyOf = (labels: Labels): string => JSON.stringify(Object.values(labels));

/** A monotonically increasing count per label set. */
export class Counter {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels, by = 1): void {
    const key = keyOf(labels);
    const entry = this.series.get(key);
    if (entry) entry.value += by;
    else this.series.set(key, { labels: { ...labels }, value: by });
  }

  family(): MetricFamily {
    return { name: this.name, help: this.help, type: 'counter', samples: [...this.series.values()].map(({ labels, value }) => ({ name: this.name, labels, value })) };
  }
}

/** Observations counted into cumulative buckets (upper bounds, in the unit of the name), with their sum, per label set. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`histogram ${name}: bucket bounds must increase`);
  }

  observe(labels: Labels, value: number): void {
    const key = keyOf(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, counts: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    const slot = this.bounds.findIndex((bound) => value <= bound);
    if (slot >= 0) entry.counts[slot]! += 1;
    entry.sum += value;
    entry.count += 1;
  }

  family(): MetricFamily {
    const samples: Sample[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += counts[i]!;
        samples.push({ name: `${this.name}_bucket`, labels: { ...labels, le: String(bound) }, value: cumulative });
      });
      samples.push({ name: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
      samples.push({ name: `${this.name}_sum`, labels, value: sum });
      samples.push({ name: `${this.name}_count`, labels, value: count });
    }
    return { name: this.name, help: this.help, type: 'histogram', samples };
  }
}

/** A gauge family read at scrape time: one sample per entry. */
export function gauge(name: string, help: string, values: ReadonlyArray<readonly [Labels, number]>): MetricFamily {
  return { name, help, type: 'gauge', samples: values.map(([labels, value]) => ({ name, labels, value })) };
}
