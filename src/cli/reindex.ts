import type { Config } from '../config.js';
import { createLogger } from '../logging.js';
import { reembedMissing } from '../memory/reembed.js';
import { openRuntime } from '../open-runtime.js';
import type { Command } from './command.js';
import { progressBar } from './progress-bar.js';
import { settingsOf, STORE_GROUPS } from './setting-groups.js';
import { UsageError } from './usage-error.js';

/** Embed, in the foreground, every record without a vector of the active model. */
async function reindex(config: Config): Promise<number> {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const runtime = await openRuntime(config, logger, { reembed: false, audits: false });
  const embedder = runtime.memory.vectors ? runtime.memory.embedder : null;
  try {
    // No model: vectors turned off, or an embedding service that has not answered (its note says which).
    if (!embedder) throw new UsageError(`no embedding model is active (${runtime.memory.modelNote ?? 'embed model "none"'}); nothing to reindex`);
    const bar = progressBar('embedding');
    const start = await runtime.store.embeddingProgress(embedder.model.key);
    bar.update(start.embedded, start.docs);
    const done = await reembedMissing(runtime.store, embedder, logger, {
      batch: config.embedBatch * 4,
      onProgress: (p) => {
        runtime.memory.vectors?.catchUp();
        bar.update(p.embedded, p.docs);
      },
    });
    bar.end();
    process.stderr.write(`pinak-memory: embedded ${done} record(s) with ${embedder.model.id}; ${start.docs - start.embedded - done <= 0 ? 'all records have vectors' : 'some records are left'}\n`);
    return 0;
  } finally {
    await runtime.close();
  }
}

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 'embed every record that has no vector of the active model',
  usage: 'reindex [options]',
  details: 'A running server does the same in the background; this shows a progress bar on a terminal.',
  operands: { min: 0, max: 0 },
  options: {},
  settings: settingsOf(...STORE_GROUPS),
  run: ({ config }) => reindex(config),
};
