/**
 * The side-by-side table of a LoCoMo evaluation over several splits: for each
 * mode, one row per question category and one overall, each metric once per
 * split (dev next to validation), as a Markdown table. Pure functions.
 */

/** What the table reads of one split's report. */
export interface SplitReport {
  modes: Record<string, { overall: Record<string, number>; by_category: Record<string, Record<string, number>> }>;
}

const format = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(3));

/** "1-multi-hop" → [1, "multi-hop"]; a key without a number sorts last. */
function categoryOrder(key: string): [number, string] {
  const match = /^(\d+)-(.*)$/.exec(key);
  return match ? [Number(match[1]), match[2]!] : [Number.MAX_SAFE_INTEGER, key];
}

/**
 * Markdown tables, one per mode (modes in the order the first split that has
 * them ran them), columns `<metric> <split>` for each metric and split, rows
 * the categories in their numeric order, then overall. A value a split does
 * not have is shown as "–".
 */
export function splitTable(splits: Readonly<Record<string, SplitReport>>, metrics: readonly string[]): string {
  const names = Object.keys(splits);
  const modes = [...new Set(names.flatMap((split) => Object.keys(splits[split]!.modes)))];
  const header = ['category', ...names.map((split) => `n ${split}`), ...metrics.flatMap((metric) => names.map((split) => `${metric} ${split}`))];
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const tables = modes.map((mode) => {
    const categories = [...new Set(names.flatMap((split) => Object.keys(splits[split]!.modes[mode]?.by_category ?? {})))].sort((a, b) => {
      const [na, ta] = categoryOrder(a);
      const [nb, tb] = categoryOrder(b);
      return na - nb || ta.localeCompare(tb);
    });
    const row = (label: string, pick: (split: string) => Record<string, number> | undefined): string => {
      const counts = names.map((split) => String(pick(split)?.questions ?? '–'));
      const values = metrics.flatMap((metric) => names.map((split) => format(pick(split)?.[metric])));
      return line([label, ...counts, ...values]);
    };
    return [
      `mode: ${mode}`,
      line(header),
      line(header.map(() => '---')),
      ...categories.map((category) => row(categoryOrder(category)[1], (split) => splits[split]!.modes[mode]?.by_category[category])),
      row('overall', (split) => splits[split]!.modes[mode]?.overall),
    ].join('\n');
  });
  return `${tables.join('\n\n')}\n`;
}
