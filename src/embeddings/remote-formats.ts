/**
 * The wire formats of the embedding services: where to POST, what to send,
 * and how to read the answer. Each reader checks what it is given and throws
 * a BadEmbeddingResponse saying what is wrong, never returning a vector it
 * did not find.
 */

export type EmbeddingProvider = 'openai' | 'ollama' | 'tei';

export class BadEmbeddingResponse extends Error {
  override readonly name = 'BadEmbeddingResponse';
}

export interface WireFormat {
  /** The request's URL from the service's base URL. */
  url(base: string): string;
  body(texts: readonly string[], model: string | null, dimensions: number | null): unknown;
  /** One vector per text, in the order sent. */
  parse(json: unknown, count: number): number[][];
}

/** The base URL without trailing slashes, then the path. */
const join = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An array of numbers, or a BadEmbeddingResponse naming where the answer went wrong. */
function numbers(value: unknown, where: string): number[] {
  if (!Array.isArray(value)) throw new BadEmbeddingResponse(`${where} is not an array of numbers`);
  if (value.length === 0) throw new BadEmbeddingResponse(`${where} is empty`);
  for (const v of value) {
    if (typeof v !== 'number') throw new BadEmbeddingResponse(`${where} holds a ${v === null ? 'null' : typeof v}, not a number`);
    if (!Number.isFinite(v)) throw new BadEmbeddingResponse(`${where} holds a non-finite value`);
  }
  return value as number[];
}

/** A list of one vector per text, each of the first one's length. */
function vectors(list: unknown, count: number, where: string): number[][] {
  if (!Array.isArray(list)) throw new BadEmbeddingResponse(`${where} is not a list of vectors`);
  if (list.length !== count) throw new BadEmbeddingResponse(`${where} holds ${list.length} vector(s) for ${count} text(s)`);
  const out = list.map((vector, i) => numbers(vector, `${where}[${i}]`));
  const dimension = out[0]?.length ?? 0;
  const odd = out.findIndex((vector) => vector.length !== dimension);
  if (odd >= 0) throw new BadEmbeddingResponse(`${where}[${odd}] has ${out[odd]!.length} dimensions, ${where}[0] ${dimension}`);
  return out;
}

/**
 * OpenAI's embeddings API (POST /v1/embeddings), which vLLM, LM Studio,
 * llama.cpp's server and Ollama's /v1 also serve: `{ model, input: [...] }`
 * → `{ data: [{ index, embedding }], model, usage }`. A base URL already
 * ending in /v1 (as OpenAI's own clients take it) is not given a second one.
 */
export const OPENAI: WireFormat = {
  url: (base) => join(base, /\/v1\/*$/.test(base) ? '/embeddings' : '/v1/embeddings'),
  body: (texts, model, dimensions) => ({ model, input: texts, encoding_format: 'float', ...(dimensions === null ? {} : { dimensions }) }),
  parse(json, count) {
    if (!isObject(json) || !Array.isArray(json.data)) throw new BadEmbeddingResponse('the answer has no data list');
    const data = json.data as unknown[];
    if (data.length !== count) throw new BadEmbeddingResponse(`the answer holds ${data.length} embedding(s) for ${count} text(s)`);
    const byIndex: unknown[] = new Array<unknown>(count);
    data.forEach((item, i) => {
      if (!isObject(item)) throw new BadEmbeddingResponse(`data[${i}] is not an object`);
      // Entries carry their input's index; without one, they are taken in order.
      const index = item.index === undefined ? i : item.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) throw new BadEmbeddingResponse(`data[${i}] has index ${JSON.stringify(index)}, not one of 0..${count - 1}`);
      if (byIndex[index] !== undefined) throw new BadEmbeddingResponse(`two entries have index ${index}`);
      if (typeof item.embedding === 'string') throw new BadEmbeddingResponse(`data[${i}].embedding is base64 text, not floats`);
      byIndex[index] = item.embedding;
    });
    return vectors(byIndex, count, 'data[].embedding');
  },
};

/** Ollama's embed API (POST /api/embed): `{ model, input: [...] }` → `{ embeddings: [[...]] }`. */
export const OLLAMA: WireFormat = {
  url: (base) => join(base, '/api/embed'),
  body: (texts, model) => ({ model, input: texts }),
  parse(json, count) {
    if (!isObject(json) || !('embeddings' in json)) throw new BadEmbeddingResponse('the answer has no embeddings list');
    return vectors(json.embeddings, count, 'embeddings');
  },
};

/**
 * Hugging Face text-embeddings-inference (POST /embed): `{ inputs: [...],
 * normalize: true, truncate: true }` → `[[...]]`. It serves one model; a
 * model name is only a label here.
 */
export const TEI: WireFormat = {
  url: (base) => join(base, '/embed'),
  body: (texts) => ({ inputs: texts, normalize: true, truncate: true }),
  parse: (json, count) => vectors(json, count, 'the answer'),
};

export const WIRE_FORMATS: Record<EmbeddingProvider, WireFormat> = { openai: OPENAI, ollama: OLLAMA, tei: TEI };

/** A service's error answer in a few words: OpenAI's `{ error: { message } }`, Ollama's and TEI's `{ error }`, or the start of the text. */
export function errorDetail(text: string): string {
  let detail = text;
  try {
    const json = JSON.parse(text) as unknown;
    if (isObject(json)) {
      const error = json.error;
      if (typeof error === 'string') detail = error;
      else if (isObject(error) && typeof error.message === 'string') detail = error.message;
    }
  } catch {
    // Not JSON: the text itself.
  }
  const line = detail.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
