/**
 * The bundled static word-vector model (models/static-glove-50k) computed
 * without an ONNX runtime: the same tokenizer library transformers.js uses,
 * each token's int8 row times its scale, mean pooling and L2 normalisation,
 * in the same float32/float64 steps as transformers.js and onnxruntime, so the
 * vectors are bit for bit those of `pipeline('feature-extraction', …)`
 * (test/unit/static-word-vectors.test.ts compares them). Real models keep
 * going through transformers.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ONNX_FLOAT, ONNX_INT8, readOnnxGraph, type OnnxTensor } from './onnx-graph.js';

/** The graph the model builder writes: Gather(int8 rows) → Cast(float) → × Gather(row scales). */
const EXPECTED_OPS = ['Gather', 'Cast', 'Gather', 'Mul'];

export interface StaticWordVectors {
  readonly dimension: number;
  /** One mean-pooled, L2-normalised vector per text, flat; NaN for a text with no known word (as transformers.js gives). */
  embed(texts: readonly string[]): Float32Array;
}

function initializer(tensors: Map<string, OnnxTensor>, name: string, dataType: number, rank: number): OnnxTensor {
  const tensor = tensors.get(name);
  if (!tensor || tensor.dataType !== dataType || tensor.dims.length !== rank) throw new Error(`static model: initializer ${name} missing or of an unexpected type`);
  return tensor;
}

/** Load a static word-vector model directory (onnx/model.onnx, tokenizer.json, tokenizer_config.json). */
export function loadStaticWordVectors(dir: string): StaticWordVectors {
  const graph = readOnnxGraph(readFileSync(join(dir, 'onnx', 'model.onnx')));
  if (graph.ops.join(',') !== EXPECTED_OPS.join(',')) throw new Error(`static model: unexpected graph (${graph.ops.join(', ')})`);
  const rows = initializer(graph.initializers, 'embedding_int8', ONNX_INT8, 2);
  const scales = initializer(graph.initializers, 'row_scale', ONNX_FLOAT, 2);
  const [vocab = 0, dimension = 0] = rows.dims;
  if (rows.raw.length !== vocab * dimension || scales.dims[0] !== vocab || scales.dims[1] !== 1 || scales.raw.length !== vocab * 4) {
    throw new Error('static model: initializer sizes do not match');
  }
  const weights = new Int8Array(rows.raw.buffer, rows.raw.byteOffset, rows.raw.length);
  const scaleView = new DataView(scales.raw.buffer, scales.raw.byteOffset, scales.raw.length);
  const rowScale = Float32Array.from({ length: vocab }, (_, i) => scaleView.getFloat32(i * 4, true));

  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as { model_max_length?: number };
  const tokenizer = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as object, config);
  // transformers.js truncates every input to the tokenizer's model_max_length.
  const maxLength = config.model_max_length ?? Number.POSITIVE_INFINITY;

  const sums = new Float64Array(dimension);
  const embedOne = (text: string, out: Float32Array, offset: number): void => {
    const ids = tokenizer.encode(text).ids.slice(0, maxLength);
    sums.fill(0);
    for (const id of ids) {
      if (!(id >= 0 && id < vocab)) throw new Error(`static model: token id ${id} outside the vocabulary`);
      // onnxruntime: Cast(int8 → float32) then a float32 multiply; the product of an int8 and a
      // float32 is exact in a double, so fround rounds it exactly as float32 arithmetic does.
      const scale = rowScale[id]!;
      const row = id * dimension;
      for (let k = 0; k < dimension; k++) sums[k]! += Math.fround(weights[row + k]! * scale);
    }
    // transformers.js mean_pooling: a float64 sum divided by the token count, stored as float32.
    for (let k = 0; k < dimension; k++) out[offset + k] = sums[k]! / ids.length;
    // Tensor.normalize(2, -1): the sum of squares accumulated in a Float32Array, its square root, then each value divided.
    const norm = new Float32Array(1);
    for (let k = 0; k < dimension; k++) norm[0] = norm[0]! + out[offset + k]! ** 2;
    norm[0] = norm[0]! ** (1 / 2);
    for (let k = 0; k < dimension; k++) out[offset + k]! /= norm[0]!;
  };

  return {
    dimension,
    embed(texts) {
      const out = new Float32Array(texts.length * dimension);
      texts.forEach((text, i) => embedOne(text, out, i * dimension));
      return out;
    },
  };
}
