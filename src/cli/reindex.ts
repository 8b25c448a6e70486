import type { Config } from '../config.js';
import { createLogger } from '../logging.js';
import { rewriteKeywordIndex } from '../memory/keyword-rewrite.js';
import { reembedMissing } from '../memory/reembed.js';
import { openRuntime } from '../open-runtime.js';
import { openStore } from '../store/open-store.js';
import type { Command } from './command.js';
import { progressBar } from './progress-bar.js';
import { settingsOf, STORE_GROUPS } from './setting-groups.js';
import { existingTenant } from './tenant-place.js';
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

/** Write one tenant's keyword index again (memory/keyword-rewrite.ts); no model is loaded. */
async function rewriteKeywords(config: Config, tenantFlag: string | undefined): Promise<number> {
  const { store } = await openStore(config, existingTenant(config, tenantFlag), { serving: false });
  try {
    const started = performance.now();
    const written = await rewriteKeywordIndex(store);
    process.stderr.write(`pinak-memory: rewrote the keyword index of ${written} record(s) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 'embed every record that has no vector of the active model',
  usage: 'reindex [options]',
  details: `A running server does the same in the background; this shows a progress bar on a terminal.
With --keywords, it writes the keyword index again instead, every record indexed as this version
indexes it (dates understood, for records stored before), in one transaction: servers go on
reading the index as it was; their writes, and on SQLite every call's audit row, wait for it.`,
  operands: { min: 0, max: 0 },
  options: {
    keywords: { type: 'boolean', help: 'write the keyword index again instead of embedding' },
    tenant: { type: 'string', value: 'T', help: 'with --keywords: that tenant\'s records (default: the local one)' },
  },
  settings: settingsOf(...STORE_GROUPS),
  run: ({ config, options }) => {
    if (options.keywords !== undefined) return rewriteKeywords(config, options.tenant);
    if (options.tenant !== undefined) throw new UsageError('--tenant goes with --keywords: embedding runs for the local tenant');
    return reindex(config);
  },
};
