import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Config } from '../config.js';
import { createLogger } from '../logging.js';
import { importMemories } from '../memory/import-export.js';
import { openRuntime } from '../runtime.js';
import type { Command } from './command.js';
import { progressBar } from './progress-bar.js';
import { settingsOf, STORE_GROUPS } from './setting-groups.js';
import { UsageError } from './usage-error.js';

async function importFile(config: Config, file: string): Promise<number> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const runtime = await openRuntime(config, logger, { reembed: false });
  const bar = progressBar('importing');
  const input = createReadStream(file);
  let bytes = 0;
  input.on('data', (chunk) => (bytes += chunk.length));
  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    const { progress, problems } = await importMemories(runtime.memory, { clientName: 'pinak-memory import' }, lines, () => bar.update(bytes, size));
    bar.end();
    for (const problem of problems) process.stderr.write(`pinak-memory: ${file}:${problem.line}: ${problem.message}\n`);
    process.stderr.write(`pinak-memory: imported ${progress.imported} memories from ${file}; ${progress.skipped} already present, ${progress.failed} failed\n`);
    return progress.failed > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}

export const importCommand: Command = {
  name: 'import',
  summary: 'store memories from JSON lines (exported memories or remember inputs)',
  usage: 'import FILE [options]',
  operands: { min: 1, max: 1 },
  options: {},
  settings: settingsOf(...STORE_GROUPS, 'records'),
  run: ({ config, operands }) => importFile(config, operands[0]!),
};
