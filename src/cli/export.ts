import { databaseFile, type Config } from '../config.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Command } from './command.js';
import { LineOutput } from './output.js';
import { progressBar } from './progress-bar.js';
import { settingsOf } from './setting-groups.js';

async function exportFile(config: Config, namespace: string | undefined, output: string | undefined): Promise<number> {
  const out = LineOutput.open(output);
  const store = SqliteStore.open({ file: databaseFile(config), busyTimeoutMs: config.busyTimeoutMs });
  try {
    const total = (await store.stats()).memories_total;
    const bar = out.toFile ? progressBar('exporting') : progressBar('');
    let count = 0;
    for (const memory of store.exportMemories(namespace)) {
      if (!(await out.write(`${JSON.stringify(memory)}\n`))) return 0; // the reader has gone (export | head)
      if (++count % 1000 === 0 && out.toFile) bar.update(count, total);
    }
    await out.close();
    if (out.toFile) {
      bar.update(count, total);
      bar.end();
      process.stderr.write(`pinak-memory: exported ${count} memories to ${output}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write every memory as JSON lines (lossless; import reads it back)',
  usage: 'export [options]',
  operands: { min: 0, max: 0 },
  options: {
    output: { type: 'string', value: 'FILE', help: 'write to FILE instead of stdout' },
    namespace: { type: 'string', value: 'NS', help: 'only this namespace' },
  },
  settings: settingsOf('place', 'locking'),
  run: ({ config, options }) => exportFile(config, options.namespace, options.output),
};
