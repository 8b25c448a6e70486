import { createReadStream, statSync } from 'node:fs';
import { LOCAL_PRINCIPAL } from '../domain/principal.js';
import { createInterface } from 'node:readline';
import type { Config } from '../config.js';
import { createLogger } from '../logging.js';
import { importRecords, type ImportFormat, type ImportProgress } from '../memory/import-export.js';
import { openRuntime } from '../open-runtime.js';
import type { Command } from './command.js';
import { progressBar } from './progress-bar.js';
import { settingsOf, STORE_GROUPS } from './setting-groups.js';
import { UsageError } from './usage-error.js';

const counted = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** What was stored, as the summary line says it. */
export const recordsSummary = (p: Pick<ImportProgress, 'memories' | 'goals' | 'outcomes'>): string =>
  `${counted(p.memories, 'memory', 'memories')}, ${counted(p.goals, 'goal', 'goals')} and ${counted(p.outcomes, 'outcome', 'outcomes')}`;

const FORMATS: Record<string, ImportFormat> = { 'pinak-memory': 'pinak-memory', 'server-memory': 'server-memory' };

async function importFile(config: Config, file: string, from: string | undefined): Promise<number> {
  const format = FORMATS[from ?? 'pinak-memory'];
  if (format === undefined) throw new UsageError(`--from ${JSON.stringify(from)}: the formats are pinak-memory (an export, or remember inputs) and server-memory (the knowledge graph of @modelcontextprotocol/server-memory)`);
  let size: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = stat.size;
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const runtime = await openRuntime(config, logger, { reembed: false, audits: false });
  const bar = progressBar('importing');
  const input = createReadStream(file);
  let bytes = 0;
  input.on('data', (chunk) => (bytes += chunk.length));
  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    const { progress, problems } = await importRecords(runtime.memory, { clientName: 'pinak-memory import', principalId: LOCAL_PRINCIPAL.id, defaultOrigin: 'import' }, lines, () => bar.update(bytes, size), format);
    bar.end();
    for (const problem of problems) process.stderr.write(`pinak-memory: ${file}:${problem.line}: ${problem.message}\n`);
    process.stderr.write(`pinak-memory: imported ${recordsSummary(progress)} from ${file}; ${progress.skipped} already present, ${progress.failed} failed\n`);
    return progress.failed > 0 ? 1 : 0;
  } finally {
    input.destroy();
    await runtime.close();
  }
}

export const importCommand: Command = {
  name: 'import',
  summary: 'restore an export (memories, goals with their plans, outcomes) or store remember inputs, from JSON lines',
  usage: 'import FILE [options]',
  details: `Records keep their ids and times; those already stored are skipped, so importing a file again stores
nothing twice. Lines without an id are remember inputs: {"content": "…", "layer": "episodic", …}, given new ids.
A bad line is reported with its number and skipped; the exit code is then 1.
--from server-memory reads the memory.jsonl of @modelcontextprotocol/server-memory: each observation becomes
a semantic memory ("Kira: prefers tea"), each entity and relation ("Kira works at Acme") one too, tagged with
the entity names and type (metadata.server_memory links them to the graph); importing it again stores only
what is new.`,
  operands: { min: 1, max: 1 },
  options: {
    from: { type: 'string', value: 'FORMAT', help: 'pinak-memory (default: an export, or remember inputs) or server-memory (its memory.jsonl)' },
  },
  settings: settingsOf(...STORE_GROUPS, 'records'),
  run: ({ config, operands, options }) => importFile(config, operands[0]!, options.from),
};
