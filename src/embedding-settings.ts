import type { Config } from './config.js';
import { ConfigError } from './settings.js';

/* The embedding settings that only make sense together: a local model's, or an embedding service's. */

/** The settings of a model run in this process, which mean nothing for an embedding service. */
const LOCAL_MODEL_SETTINGS = ['modelDir', 'modelCacheDir', 'allowRemoteModels', 'embedDtype', 'embedWorkers'] as const;
/** The settings of an embedding service, which mean nothing for a local model. */
const SERVICE_SETTINGS = ['embedUrl', 'embedApiKey', 'embedTimeoutMs', 'embedDimensions'] as const;

/** An embedding service needs a URL and (but for TEI, which serves one model) a model name; each side's settings are refused on the other. */
export function checkEmbeddingSettings(config: Config, origin: Readonly<Record<string, string>>): void {
  const provider = config.embedProvider;
  if (provider === 'local') {
    const stray = SERVICE_SETTINGS.find((key) => Object.hasOwn(origin, key));
    if (stray !== undefined) throw new ConfigError(`${origin[stray]} is for an embedding service: add --embed-provider openai, ollama or tei (or leave it out to embed in this process)`);
    return;
  }
  const stray = LOCAL_MODEL_SETTINGS.find((key) => Object.hasOwn(origin, key));
  if (stray !== undefined) throw new ConfigError(`${origin[stray]} is for a model run in this process, not for --embed-provider ${provider}: leave it out`);
  if (config.embedUrl === undefined) throw new ConfigError(`--embed-provider ${provider} needs the service's address: set --embed-url (or PINAK_EMBED_URL), such as ${EXAMPLE_URL[provider]}`);
  const named = Object.hasOwn(origin, 'embedModel');
  if (named && (config.embedModel === 'none' || config.embedModel === 'bundled')) {
    throw new ConfigError(`${origin.embedModel} names the service's model with --embed-provider ${provider}, not "${config.embedModel}": give the model's name, or use --embed-provider local`);
  }
  if (!named && provider !== 'tei') throw new ConfigError(`--embed-provider ${provider} needs the service's model name: set --embed-model (or PINAK_EMBED_MODEL), such as ${EXAMPLE_MODEL[provider]}`);
  if (config.embedDimensions !== undefined && provider !== 'openai') throw new ConfigError(`${origin.embedDimensions} is the OpenAI API's dimensions parameter: only with --embed-provider openai`);
}

const EXAMPLE_URL = { openai: 'https://api.openai.com', ollama: 'http://127.0.0.1:11434', tei: 'http://127.0.0.1:8080' } as const;
const EXAMPLE_MODEL = { openai: 'text-embedding-3-small', ollama: 'nomic-embed-text' } as const;

/** The model name of an embedding service, or null for TEI given none (it serves one model). */
export const serviceModelName = (config: Pick<Config, 'embedProvider' | 'embedModel'>): string | null =>
  config.embedProvider === 'tei' && config.embedModel === 'bundled' ? null : config.embedModel;
