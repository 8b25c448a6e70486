import { setTimeout as sleep } from 'node:timers/promises';
import { serviceModelName, type Config } from './config.js';
import type { Embedder } from './embeddings/embedder.js';
import { resolveModel } from './embeddings/model-source.js';
import { describeService, identifyWhenAvailable, type RemoteEmbedderOptions } from './embeddings/remote-embedder.js';
import { TransformersEmbedder } from './embeddings/transformers-embedder.js';
import type { Logger } from './logging.js';

/*
 * Which embedder a runtime starts with: the configured local model (the
 * bundled one when it cannot be loaded), an embedding service (identified at
 * once, or in the background while the server serves keyword search), or none.
 */

/**
 * An embedding service whose model is not known yet (it did not answer at
 * start): identification goes on in the background, with backoff, until it
 * answers. Meanwhile search is keyword only and records are stored without
 * vectors; then every runtime waiting on it opens the model's vector index
 * and re-embeds what was stored meanwhile.
 */
export class PendingEmbedder {
  private readonly abort = new AbortController();
  private readonly listeners = new Set<(note: string) => void>();
  /** The embedder once the service answered; null if stopped first. */
  readonly ready: Promise<Embedder | null>;
  note: string;

  constructor(options: RemoteEmbedderOptions, logger: Logger) {
    const noteOf = (reason: string): string => `waiting for the embedding service (${options.provider}) to answer: ${reason}; searches are keyword only until it does, and what is stored meanwhile gets vectors then`;
    this.note = noteOf('not asked yet');
    const update = (reason: string): void => {
      this.note = noteOf(reason.replace(/^the embedding service \([^)]*\) /, ''));
      for (const listener of this.listeners) listener(this.note);
    };
    this.ready = identifyWhenAvailable(options, logger, this.abort.signal, update);
  }

  /** Hear each new reason the service cannot be used yet. */
  onNote(listener: (note: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop trying, and close the embedder if it had just been identified. */
  async stop(): Promise<void> {
    this.abort.abort();
    await (await this.ready)?.close();
  }
}

export interface StartedEmbedder {
  embedder: Embedder | null;
  /** The bundled model (its own fusion weights). */
  bundled: boolean;
  note: string | null;
  /** An embedding service that did not answer in time at start. */
  pending: PendingEmbedder | null;
}

/** How long a start waits for an embedding service to answer before serving keyword search while it goes on trying. */
const SERVICE_WAIT_AT_START_MS = 3000;

/** The embedding service's settings. */
const remoteEmbedderOptions = (config: Config): RemoteEmbedderOptions => ({
  provider: config.embedProvider as RemoteEmbedderOptions['provider'],
  url: config.embedUrl ?? '',
  model: serviceModelName(config),
  apiKey: config.embedApiKey ?? null,
  timeoutMs: config.embedTimeoutMs,
  dimensions: config.embedDimensions ?? null,
  batch: config.embedBatch,
});

/**
 * Identify the embedding service's model: at once when it answers within a
 * few seconds; otherwise the server starts without it (keyword search) and
 * the identification goes on in the background.
 */
async function startServiceEmbedder(config: Config, logger: Logger): Promise<StartedEmbedder> {
  const options = remoteEmbedderOptions(config);
  const pending = new PendingEmbedder(options, logger);
  // A timer that holds the process open: nothing else does yet while a start waits (stdin is not read before the server runs).
  const waited = new AbortController();
  const answered = await Promise.race([pending.ready, sleep(SERVICE_WAIT_AT_START_MS, null, { signal: waited.signal }).catch(() => null)]).finally(() => waited.abort());
  if (answered) {
    logger.info({ service: describeService(options), model: answered.model.id, dimension: answered.model.dimension, fingerprint: answered.model.fingerprint }, 'embedding service identified');
    return { embedder: answered, bundled: false, note: null, pending: null };
  }
  return { embedder: null, bundled: false, note: pending.note, pending };
}

export async function startEmbedder(config: Config, logger: Logger): Promise<StartedEmbedder> {
  if (config.embedProvider !== 'local') return startServiceEmbedder(config, logger);
  if (config.embedModel === 'none') return { embedder: null, bundled: false, note: 'vector search disabled by configuration (embed model "none")', pending: null };
  const settings = {
    modelDir: config.modelDir,
    cacheDir: config.modelCacheDir,
    allowRemoteModels: config.allowRemoteModels,
    dtype: config.embedDtype,
  };
  const pool = { workers: config.embedWorkers, maxBatch: config.embedBatch };
  const choice = resolveModel({ name: config.embedModel, ...settings });
  try {
    return { embedder: await TransformersEmbedder.start({ ...choice.options, id: choice.id, ...pool }), bundled: choice.bundled, note: null, pending: null };
  } catch (error) {
    if (choice.bundled) throw error;
    const note = `model "${config.embedModel}" could not be loaded (${(error as Error).message.split('\n')[0]}); using the bundled model`;
    logger.warn({ model: config.embedModel, err: error }, 'embedding model could not be loaded; falling back to the bundled model');
    const bundled = resolveModel({ name: 'bundled', ...settings });
    return { embedder: await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, ...pool }), bundled: true, note, pending: null };
  }
}

