import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerModelOptions } from './embed-protocol.js';

/** The offline model shipped in the package (see models/static-glove-50k/README.md). */
export const BUNDLED_MODEL = 'static-glove-50k';
export const BUNDLED_MODEL_ID = `pinak/${BUNDLED_MODEL}`;
const MODELS_ROOT = fileURLToPath(new URL('../../models/', import.meta.url));

export interface ModelSettings {
  /** "bundled", a Hugging Face model id, or a path to a model directory. */
  name: string;
  modelDir?: string | undefined;
  cacheDir?: string | undefined;
  allowRemoteModels: boolean;
  dtype: string;
}

export interface ModelChoice {
  /** Recorded with every vector; never a machine-specific path. */
  id: string;
  options: WorkerModelOptions;
  bundled: boolean;
}

const looksLikePath = (name: string): boolean => isAbsolute(name) || name.startsWith('./') || name.startsWith('../');

/** Where and how to load the configured model: the bundled one without an ONNX runtime, any other through transformers.js. */
export function resolveModel(settings: ModelSettings): ModelChoice {
  if (settings.name === 'bundled' || settings.name === BUNDLED_MODEL_ID) {
    return {
      id: BUNDLED_MODEL_ID,
      bundled: true,
      options: { engine: 'static', model: BUNDLED_MODEL, localModelPath: MODELS_ROOT, cacheDir: null, allowRemoteModels: false, dtype: 'fp32' },
    };
  }
  if (looksLikePath(settings.name)) {
    const dir = resolve(settings.name);
    return {
      id: `local/${basename(dir)}`,
      bundled: false,
      options: { engine: 'transformers', model: basename(dir), localModelPath: `${dirname(dir)}/`, cacheDir: settings.cacheDir ?? null, allowRemoteModels: false, dtype: settings.dtype },
    };
  }
  return {
    id: settings.name,
    bundled: false,
    options: {
      engine: 'transformers',
      model: settings.name,
      localModelPath: settings.modelDir ? `${resolve(settings.modelDir)}/` : null,
      cacheDir: settings.cacheDir ?? null,
      allowRemoteModels: settings.allowRemoteModels,
      dtype: settings.dtype,
    },
  };
}
