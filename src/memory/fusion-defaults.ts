import type { FusionMethod, FusionSettings } from './context.js';

/**
 * Kinds of embedding model, each with its own default fusion: how much the
 * vector leg may move what the keyword leg ranks depends on how good its
 * vectors are, and that follows from the kind of model far more than from
 * its name.
 */
export type ModelFamily = 'static' | 'sentence-transformer' | 'service';

/**
 * Default fusion per family (see docs/retrieval.md for the measurements).
 * - static (the bundled averaged word vectors): the vector leg only breaks
 *   near ties among the keyword leg's first 20 hits, with at most 5 % of the
 *   best keyword score, and answers queries no memory shares a word with.
 *   On LoCoMo its own recall is half the keyword leg's; given a vote by rank
 *   (any weight from 8 to 60 against keyword's 1, k 10 to 200) it added
 *   nothing or took recall away.
 * - sentence-transformer (a transformers.js model such as all-MiniLM-L6-v2):
 *   equal weights, k 60, the usual reciprocal rank fusion; such models find
 *   paraphrases BM25 cannot, so their ranking deserves a full vote.
 * - service (an embedding API or server: OpenAI-compatible, Ollama, TEI):
 *   as a sentence-transformer; the models served are of that kind or larger.
 */
export const DEFAULT_FUSION: Record<ModelFamily, Required<FusionSettings>> = {
  static: { method: 'tie-break', keywordWeight: 1, vectorWeight: 0.05, rrfK: 60 },
  'sentence-transformer': { method: 'rrf', keywordWeight: 1, vectorWeight: 1, rrfK: 60 },
  service: { method: 'rrf', keywordWeight: 1, vectorWeight: 1, rrfK: 60 },
};

/** The family of the active model: an embedding service's, the bundled static vectors, or another model run in this process. */
export function modelFamily(model: { service: boolean; bundled: boolean }): ModelFamily {
  return model.service ? 'service' : model.bundled ? 'static' : 'sentence-transformer';
}

/** What a user may set: each setting given replaces the family's default alone. */
export interface FusionOverrides {
  method?: FusionMethod | undefined;
  keywordWeight?: number | undefined;
  vectorWeight?: number | undefined;
  rrfK?: number | undefined;
}

/** The fusion a server uses: the family's default, each setting the user gave in its place. */
export function fusionFor(family: ModelFamily, overrides: FusionOverrides = {}): Required<FusionSettings> {
  const tuned = DEFAULT_FUSION[family];
  return {
    method: overrides.method ?? tuned.method,
    keywordWeight: overrides.keywordWeight ?? tuned.keywordWeight,
    vectorWeight: overrides.vectorWeight ?? tuned.vectorWeight,
    rrfK: overrides.rrfK ?? tuned.rrfK,
  };
}
