import type { Config } from '../config.js';
import { exportHeader, exportLine } from '../memory/export-format.js';
import { openStore } from '../store/open-store.js';
import type { Command } from './command.js';
import { recordsSummary } from './import.js';
import { LineOutput } from './output.js';
import { progressBar } from './progress-bar.js';
import { settingsOf } from './setting-groups.js';
import { existingTenant } from './tenant-place.js';

/** Write a backup of one tenant's records: the header line, then every goal, outcome and memory (see memory/export-format.ts). */
async function exportFile(config: Config, namespace: string | undefined, output: string | undefined, tenantFlag: string | undefined): Promise<number> {
  const place = existingTenant(config, tenantFlag);
  const out = LineOutput.open(output);
  const { store } = await openStore(config, place, { serving: false });
  try {
    const stats = await store.stats();
    const total = stats.memories_total + Object.values(stats.goals_by_status).reduce((a, b) => a + b, 0) + stats.outcomes;
    const bar = out.toFile ? progressBar('exporting') : progressBar('');
    const counts = { memories: 0, goals: 0, outcomes: 0 };
    const plural = { memory: 'memories', goal: 'goals', outcome: 'outcomes' } as const;
    if (!(await out.write(`${JSON.stringify(exportHeader(new Date().toISOString(), namespace ?? null))}\n`))) return 0;
    for await (const record of store.exportRecords(namespace)) {
      // The reader has gone (export | head): stop quietly, it has what it asked for.
      if (!(await out.write(`${exportLine(record)}\n`))) return 0;
      // Evidence rows (a lesson recalled for a goal) come last and are not counted as records.
      if (record.type === 'evidence') continue;
      const done = ++counts[plural[record.type]];
      if (out.toFile && done % 1000 === 0) bar.update(counts.memories + counts.goals + counts.outcomes, total);
    }
    await out.close();
    if (out.toFile) {
      bar.update(counts.memories + counts.goals + counts.outcomes, total);
      bar.end();
      process.stderr.write(`pinak-memory: exported ${recordsSummary(counts)} to ${output}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write everything as JSON lines, a backup import restores: memories, goals with their plans, outcomes',
  usage: 'export [options]',
  details: `Lossless: ids, times, statuses and every plan revision are kept, read from one snapshot while servers
go on writing. One record a line, told apart by "type" (header, goal, outcome, memory).`,
  operands: { min: 0, max: 0 },
  options: {
    output: { type: 'string', value: 'FILE', help: 'write to FILE instead of stdout (created readable by you alone)' },
    namespace: { type: 'string', value: 'NS', help: 'only this namespace\'s records' },
    tenant: { type: 'string', value: 'T', help: 'that tenant\'s records (default: the local one)' },
  },
  settings: settingsOf('place', 'locking', 'postgres'),
  run: ({ config, options }) => exportFile(config, options.namespace, options.output, options.tenant),
};
